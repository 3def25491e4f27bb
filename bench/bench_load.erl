%% The engine under load: BEAM timer lateness while every context runs CPU-bound Python
%% (sched), and call latency while CPU hogs compete for the cores (contended).
-module(bench_load).
-export([sections/0]).

sections() ->
    [{"sched", fun sched/0, extra}, {"contended", fun contended/0, extra}].

%%% sched ------------------------------------------------------------------------------

-define(TIMER_SAMPLES, 2000).

sched() ->
    Contexts = py_context_router:contexts(),
    report("1 ms timers, idle", lateness(?TIMER_SAMPLES)),
    Code = <<"import time\n"
             "def spin(seconds):\n"
             "    end = time.monotonic() + seconds\n"
             "    n = 0\n"
             "    while time.monotonic() < end:\n"
             "        n += 1\n"
             "    return n\n">>,
    [ok = py:exec(C, Code) || C <- Contexts],
    Refs = [py:spawn_call(C, '__main__', spin, [3.5]) || C <- Contexts],
    timer:sleep(200),  % every context is spinning now
    Samples = lateness(?TIMER_SAMPLES),
    [{ok, _} = py:await(R, 60000) || R <- Refs],
    report(io_lib:format("1 ms timers, ~w contexts on CPU-bound Python", [length(Contexts)]),
           Samples).

%% How late `receive after 1` wakes, in microseconds, N times.
lateness(N) ->
    lists:sort([begin
                    T0 = erlang:monotonic_time(microsecond),
                    receive after 1 -> ok end,
                    erlang:monotonic_time(microsecond) - T0 - 1000
                end || _ <- lists:seq(1, N)]).

report(What, Sorted) ->
    io:format("~-55s late by p50 ~7.2f ms  p99 ~7.2f ms  max ~7.2f ms~n",
              [What, bench_util:pct(Sorted, 50) / 1000, bench_util:pct(Sorted, 99) / 1000,
               lists:last(Sorted) / 1000]).

%%% contended --------------------------------------------------------------------------

-define(RUNS, 10).
-define(CALLS, 20000).

contended() ->
    Ctx = py:context(1),
    ok = py:register_function(bench_echo, fun([X]) -> X end),
    ok = py:exec(Ctx, <<"import erlang, time\n"
                        "def callback_latency(n):\n"
                        "    samples = []\n"
                        "    for i in range(n):\n"
                        "        t = time.perf_counter_ns()\n"
                        "        erlang.bench_echo(i)\n"
                        "        samples.append(time.perf_counter_ns() - t)\n"
                        "    samples.sort()\n"
                        "    return [samples[n // 2], samples[n * 99 // 100]]\n"
                        "def pong(channel):\n"
                        "    for pid, msg in channel:\n"
                        "        erlang.send(pid, msg)\n">>),
    Call = fun() -> {ok, 4.0} = py:call(Ctx, math, sqrt, [16]) end,
    Calls = fun() ->
                _ = bench_util:samples(Call, 2000),
                S = bench_util:samples(Call, ?CALLS),
                {bench_util:pct(S, 50), bench_util:pct(S, 99)}
            end,
    Callbacks = fun() ->
                    {ok, [P50, P99]} = py:call(Ctx, '__main__', callback_latency, [?CALLS], #{}, 60000),
                    {P50, P99}
                end,
    Pings = fun() ->
                {ok, Ch} = py_channel:new(),
                Ref = py:spawn_call(Ctx, '__main__', pong, [Ch]),
                Ping = fun() -> ok = py_channel:send(Ch, {self(), x}), receive x -> ok end end,
                _ = bench_util:samples(Ping, 2000),
                S = bench_util:samples(Ping, ?CALLS),
                ok = py_channel:close(Ch),
                {ok, _} = py:await(Ref, 60000),
                {bench_util:pct(S, 50), bench_util:pct(S, 99)}
            end,
    [begin
         Runs = bench_util:with_hogs(Hogs, fun() -> [Run() || _ <- lists:seq(1, ?RUNS)] end),
         {P50s, P99s} = lists:unzip(Runs),
         io:format("~-44s ~w hog(s), ~w runs: p50 ~s us, p99 ~s us (min/median/max)~n",
                   [What, Hogs, ?RUNS, spread(P50s), spread(P99s)])
     end || {What, Run} <- [{"py:call(Ctx, math, sqrt, [16])", Calls},
                            {"erlang.call round trip from Python", Callbacks},
                            {"channel ping (send -> receive -> erlang.send)", Pings}],
            Hogs <- [0, 1, 2]],
    py:unregister_function(bench_echo),
    ok.

spread(Ns) ->
    S = lists:sort(Ns),
    io_lib:format("~.1f/~.1f/~.1f", [hd(S) / 1000, bench_util:median(S) / 1000, lists:last(S) / 1000]).
