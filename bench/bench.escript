#!/usr/bin/env escript
%% erlang_python benchmark (never run by the tests). Run it with
%%   cmake --build build --target bench      (or: ERL_LIBS=build/lib escript bench/bench.escript)
%% Arguments pick sections (calls, parallel, state, callbacks, asyncio, channels); none runs
%% them all.
%% VM flags go in ERL_FLAGS, e.g. ERL_FLAGS="+sbwt very_long".
-mode(compile).

-define(SEQ, 100000).
-define(SECTIONS, [{"calls", fun calls/0}, {"parallel", fun parallel_speedup/0},
                   {"state", fun shared_state/0}, {"callbacks", fun python_calls_erlang/0},
                   {"asyncio", fun asyncio_tasks/0}, {"channels", fun channels/0}]).

main(Args) ->
    logger:set_primary_config(level, warning),
    {ok, _} = application:ensure_all_started(erlang_python),
    io:format("erlang_python bench: Python ~s, ~p mode, ~p contexts, ~p schedulers, OTP ~s~n",
              [py:version(), py:execution_mode(), py_context_router:num_contexts(),
               erlang:system_info(schedulers), erlang:system_info(otp_release)]),
    warm_up(),
    [case lists:keyfind(Name, 1, ?SECTIONS) of
         {_, Run} -> Run();
         false -> io:format("no section ~s (sections: ~s)~n",
                            [Name, lists:join(", ", [N || {N, _} <- ?SECTIONS])])
     end || Name <- case Args of [] -> [N || {N, _} <- ?SECTIONS]; _ -> Args end],
    application:stop(erlang_python).

calls() ->
    latency("py:call(math, sqrt, [16])", fun() -> {ok, 4.0} = py:call(math, sqrt, [16]) end),
    latency("py:eval(<<\"1 + 1\">>)", fun() -> {ok, 2} = py:eval(<<"1 + 1">>) end),
    latency("py:spawn_call + py:await", fun() -> {ok, 4.0} = py:await(py:spawn_call(math, sqrt, [16])) end),
    Self = self(),
    latency("py:cast(erlang, send, ...) until the message arrives",
            fun() -> ok = py:cast(erlang, send, [Self, pong]), receive pong -> ok end end),
    [throughput(C) || C <- [1, 8, 64]].

warm_up() ->
    [{ok, _} = py:call(math, sqrt, [16]) || _ <- lists:seq(1, 20000)],
    ok.

latency(Name, Fun) ->
    Samples = lists:sort([begin
                              T0 = erlang:monotonic_time(nanosecond),
                              Fun(),
                              erlang:monotonic_time(nanosecond) - T0
                          end || _ <- lists:seq(1, ?SEQ)]),
    io:format("~-55s p50 ~6.2f us   p99 ~7.2f us~n",
              [Name, pct(Samples, 50) / 1000, pct(Samples, 99) / 1000]).

pct(Sorted, P) ->
    lists:nth(max(1, length(Sorted) * P div 100), Sorted).

throughput(Callers) ->
    Total = 400000,
    Each = Total div Callers,
    Parent = self(),
    T0 = erlang:monotonic_time(microsecond),
    Pids = [spawn_link(fun() ->
                               [{ok, 4.0} = py:call(math, sqrt, [16]) || _ <- lists:seq(1, Each)],
                               Parent ! {done, self()}
                       end) || _ <- lists:seq(1, Callers)],
    [receive {done, P} -> ok end || P <- Pids],
    Us = erlang:monotonic_time(microsecond) - T0,
    io:format("throughput, ~2w concurrent callers                         ~9w calls/s~n",
              [Callers, round(Each * Callers / Us * 1.0e6)]).

%% CPU-bound pure Python (~1 ms a call) from 8 callers on pools of 1, 2 and 4 contexts:
%% with OWN_GIL subinterpreters the contexts run in parallel.
parallel_speedup() ->
    Work = <<"def work(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n    return s\n">>,
    {ok, [Probe]} = py_context_router:start_pool(bench_probe, 1, auto),
    ok = py:exec(Probe, Work),
    {Us, _} = timer:tc(fun() -> [{ok, _} = py:call(Probe, '__main__', work, [100000]) || _ <- lists:seq(1, 5)] end),
    N = max(1000, round(100000 * 1000 / (Us / 5))),  % iterations for ~1 ms
    ok = py_context_router:stop_pool(bench_probe),
    Rates = [begin
                 Pool = list_to_atom("bench_cpu" ++ integer_to_list(Size)),
                 {ok, Ctxs} = py_context_router:start_pool(Pool, Size, auto),
                 [ok = py:exec(C, Work) || C <- Ctxs],
                 Calls = 400,
                 Parent = self(),
                 T0 = erlang:monotonic_time(microsecond),
                 Pids = [spawn_link(fun() ->
                                            [{ok, _} = py:call(Pool, '__main__', work, [N])
                                             || _ <- lists:seq(1, Calls div 8)],
                                            Parent ! {done, self()}
                                    end) || _ <- lists:seq(1, 8)],
                 [receive {done, P} -> ok end || P <- Pids],
                 Rate = Calls / ((erlang:monotonic_time(microsecond) - T0) / 1.0e6),
                 ok = py_context_router:stop_pool(Pool),
                 {Size, Rate}
             end || Size <- [1, 2, 4]],
    [{1, Base} | _] = Rates,
    [io:format("CPU-bound ~~1 ms calls, 8 callers, ~w context(s)          ~9.1f calls/s  x~.2f~n",
               [Size, Rate, Rate / Base]) || {Size, Rate} <- Rates].

%% The shared state: state_get / state_set per second from Python (one context, then all
%% contexts at once) and from Erlang (one process, then 8).
shared_state() ->
    ok = py:state_store(<<"bench_key">>, #{<<"config">> => [1, 2, 3]}),
    Loop = fun(Op) ->
                   iolist_to_binary(
                     ["import time\nfrom erlang import state_get, state_set\n"
                      "def run(n):\n"
                      "    v = {'config': [1, 2, 3]}\n"
                      "    t = time.perf_counter()\n"
                      "    for _ in range(n):\n        ", Op, "\n"
                      "    return n / (time.perf_counter() - t)\n"])
           end,
    Contexts = py_context_router:contexts(),
    [begin
         [ok = py:exec(C, Loop(Code)) || C <- Contexts],
         {ok, One} = py:call(hd(Contexts), '__main__', run, [1000000], #{}, 60000),
         Refs = [py:spawn_call(C, '__main__', run, [500000]) || C <- Contexts],
         All = lists:sum([begin {ok, R} = py:await(Ref, 60000), R end || Ref <- Refs]),
         io:format("Python ~-30s one context ~11.1f ops/s, all ~w contexts ~11.1f ops/s~n",
                   [Name, One, length(Contexts), All])
     end || {Name, Code} <- [{"state_get(key)", "state_get('bench_key')"},
                             {"state_set(key, small dict)", "state_set('bench_key', v)"}]],
    N = 1000000,
    [begin
         {Us, _} = timer:tc(fun() -> erlang_ops(Op, N) end),
         Parent = self(),
         {UsPar, _} = timer:tc(fun() ->
                                       Pids = [spawn_link(fun() -> erlang_ops(Op, N div 8), Parent ! {done, self()} end)
                                               || _ <- lists:seq(1, 8)],
                                       [receive {done, P} -> ok end || P <- Pids]
                               end),
         io:format("Erlang ~-30s one process ~11.1f ops/s, 8 processes ~11.1f ops/s~n",
                   [Name, N / (Us / 1.0e6), N / (UsPar / 1.0e6)])
     end || {Name, Op} <- [{"py:state_fetch(Key)", fetch}, {"py:state_store(Key, map)", store},
                           {"py:state_incr(Key)", incr}]],
    py:state_clear().

erlang_ops(_Op, 0) -> ok;
erlang_ops(fetch, N) -> {ok, _} = py:state_fetch(<<"bench_key">>), erlang_ops(fetch, N - 1);
erlang_ops(store, N) -> ok = py:state_store(<<"bench_key">>, #{<<"config">> => [1, 2, 3]}), erlang_ops(store, N - 1);
erlang_ops(incr, N) -> _ = py:state_incr(<<"bench_counter">>), erlang_ops(incr, N - 1).

%% Python -> Erlang: erlang.call round trip (Python -> Erlang fun -> back to Python) and
%% erlang.send throughput to one Erlang process.
python_calls_erlang() ->
    ok = py:register_function(bench_add, fun([A, B]) -> A + B end),
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import time, erlang\n"
                        "def call_latency(n):\n"
                        "    samples = []\n"
                        "    for i in range(n):\n"
                        "        t = time.perf_counter()\n"
                        "        erlang.bench_add(i, 1)\n"
                        "        samples.append(time.perf_counter() - t)\n"
                        "    samples.sort()\n"
                        "    return [samples[n // 2] * 1e6, samples[n * 99 // 100] * 1e6]\n"
                        "def send_many(pid, n):\n"
                        "    t = time.perf_counter()\n"
                        "    for i in range(n):\n"
                        "        erlang.send(pid, i)\n"
                        "    return time.perf_counter() - t\n">>),
    {ok, _} = py:call(Ctx, '__main__', call_latency, [2000], #{}, 60000),
    {ok, [P50, P99]} = py:call(Ctx, '__main__', call_latency, [20000], #{}, 60000),
    io:format("erlang.call round trip (Python -> Erlang fun -> Python)  p50 ~6.2f us   p99 ~7.2f us~n",
              [P50, P99]),
    N = 1000000,
    Parent = self(),
    Counter = spawn_link(fun() -> count_messages(N, Parent) end),
    T0 = erlang:monotonic_time(microsecond),
    {ok, _} = py:call(Ctx, '__main__', send_many, [Counter, N], #{}, 120000),
    receive counted -> ok end,
    Us = erlang:monotonic_time(microsecond) - T0,
    io:format("erlang.send from Python to one Erlang process               ~9w msgs/s~n",
              [round(N / (Us / 1.0e6))]),
    py:unregister_function(bench_add).

count_messages(0, Parent) -> Parent ! counted;
count_messages(N, Parent) -> receive _ -> count_messages(N - 1, Parent) end.

%% asyncio: py_event_loop:create_task + await round trips (a coroutine that never waits,
%% and one that waits one turn of the loop), tasks per second from 1 and 50 callers (each
%% keeping 100 tasks in flight), and how late asyncio.sleep(0.001) wakes.
asyncio_tasks() ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import asyncio, time\n"
                        "async def ready():\n"
                        "    return 1\n"
                        "async def one_turn():\n"
                        "    await asyncio.sleep(0)\n"
                        "    return 1\n"
                        "async def sleep_error(n, delay):\n"
                        "    errors = []\n"
                        "    for _ in range(n):\n"
                        "        t = time.perf_counter()\n"
                        "        await asyncio.sleep(delay)\n"
                        "        errors.append(time.perf_counter() - t - delay)\n"
                        "    errors.sort()\n"
                        "    return [sum(errors) / n * 1e6, errors[n * 99 // 100] * 1e6]\n">>),
    Task = fun(F) -> fun() -> {ok, 1} = py_event_loop:await(py_event_loop:create_task(Ctx, '__main__', F, [])), ok end end,
    [ok = (Task(F))() || F <- [ready, one_turn], _ <- lists:seq(1, 20000)],
    latency("py_event_loop:create_task + await (returns at once)", Task(ready)),
    latency("py_event_loop:create_task + await (one loop turn)", Task(one_turn)),
    [task_throughput(Ctx, Callers) || Callers <- [1, 50]],
    {ok, [Mean, P99]} = py_event_loop:run(Ctx, '__main__', sleep_error, [2000, 0.001], #{}, 60000),
    io:format("asyncio.sleep(0.001) wakes late by                     mean ~6.1f us   p99 ~7.1f us~n",
              [Mean, P99]).

task_throughput(Ctx, Callers) ->
    Total = 200000,
    Each = Total div Callers,
    Window = 100,
    Parent = self(),
    T0 = erlang:monotonic_time(microsecond),
    Pids = [spawn_link(fun() ->
                               tasks_in_windows(Ctx, Each, Window),
                               Parent ! {done, self()}
                       end) || _ <- lists:seq(1, Callers)],
    [receive {done, P} -> ok end || P <- Pids],
    Us = erlang:monotonic_time(microsecond) - T0,
    io:format("asyncio tasks (one loop turn each), ~2w callers, 100 in flight each ~9w tasks/s~n",
              [Callers, round(Each * Callers / Us * 1.0e6)]).

tasks_in_windows(_Ctx, Left, _Window) when Left =< 0 ->
    ok;
tasks_in_windows(Ctx, Left, Window) ->
    N = min(Left, Window),
    Refs = [py_event_loop:create_task(Ctx, '__main__', one_turn, []) || _ <- lists:seq(1, N)],
    [{ok, 1} = py_event_loop:await(R, 60000) || R <- Refs],
    tasks_in_windows(Ctx, Left - N, Window).

%% Channels: Erlang -> Python throughput (one producer process; one consuming context
%% summing integers, then two), and the ping round trip Erlang send -> Python receive ->
%% erlang.send back.
channels() ->
    Code = <<"import erlang\n"
             "def total(channel):\n"
             "    s = 0\n"
             "    for msg in channel:\n"
             "        s += msg\n"
             "    return s\n"
             "def pong(channel, pid, n):\n"
             "    for _ in range(n):\n"
             "        erlang.send(pid, channel.receive())\n">>,
    Contexts = py_context_router:contexts(),
    [ok = py:exec(C, Code) || C <- Contexts],
    N = 2000000,
    [begin
         Consumers = lists:sublist(Contexts, K),
         {ok, Ch} = py_channel:new(),
         Refs = [py:spawn_call(C, '__main__', total, [Ch]) || C <- Consumers],
         T0 = erlang:monotonic_time(microsecond),
         produce(Ch, N),
         ok = py_channel:close(Ch),
         Sum = lists:sum([begin {ok, S} = py:await(R, 120000), S end || R <- Refs]),
         Us = erlang:monotonic_time(microsecond) - T0,
         Sum = N * (N + 1) div 2,
         io:format("channel, 1 Erlang producer -> ~w consuming context(s)          ~9w msgs/s~n",
                   [K, round(N / Us * 1.0e6)])
     end || K <- [1, min(2, length(Contexts))]],
    Ctx = hd(Contexts),
    {ok, Ch} = py_channel:new(),
    Pings = ?SEQ + 20000,
    Ref = py:spawn_call(Ctx, '__main__', pong, [Ch, self(), Pings]),
    [ping(Ch, I) || I <- lists:seq(1, 20000)],  % warm up
    latency("channel ping (send -> receive() -> erlang.send)",
            fun() -> ping(Ch, x) end),
    {ok, _} = py:await(Ref, 60000).

produce(_Ch, 0) -> ok;
produce(Ch, N) -> ok = py_channel:send(Ch, N), produce(Ch, N - 1).

ping(Ch, Msg) ->
    ok = py_channel:send(Ch, Msg),
    receive Msg -> ok end.
