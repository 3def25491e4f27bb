%% Sequential latency and throughput of the call API; parallel speed-up of CPU-bound Python.
-module(bench_calls).
-export([sections/0]).

sections() ->
    [{"calls", fun calls/0, default}, {"parallel", fun parallel_speedup/0, default}].

calls() ->
    bench_util:latency("py:call(math, sqrt, [16])", fun() -> {ok, 4.0} = py:call(math, sqrt, [16]) end),
    bench_util:latency("py:eval(<<\"1 + 1\">>)", fun() -> {ok, 2} = py:eval(<<"1 + 1">>) end),
    bench_util:latency("py:spawn_call + py:await", fun() -> {ok, 4.0} = py:await(py:spawn_call(math, sqrt, [16])) end),
    bench_util:latency("py:cast(erlang, send, ...) until the message arrives",
            fun() -> ok = py:cast(erlang, send, [self(), pong]), receive pong -> ok end end),
    [throughput(C) || C <- [1, 8, 64]].

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
