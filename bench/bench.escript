#!/usr/bin/env escript
%% erlang_python benchmark (never run by the tests). Run it with
%%   cmake --build build --target bench      (or: ERL_LIBS=build/lib escript bench/bench.escript)
%% VM flags go in ERL_FLAGS, e.g. ERL_FLAGS="+sbwt very_long".
-mode(compile).

-define(SEQ, 100000).

main(_) ->
    logger:set_primary_config(level, warning),
    {ok, _} = application:ensure_all_started(erlang_python),
    io:format("erlang_python bench: Python ~s, ~p mode, ~p contexts, ~p schedulers, OTP ~s~n",
              [py:version(), py:execution_mode(), py_context_router:num_contexts(),
               erlang:system_info(schedulers), erlang:system_info(otp_release)]),
    warm_up(),
    latency("py:call(math, sqrt, [16])", fun() -> {ok, 4.0} = py:call(math, sqrt, [16]) end),
    latency("py:eval(<<\"1 + 1\">>)", fun() -> {ok, 2} = py:eval(<<"1 + 1">>) end),
    latency("py:spawn_call + py:await", fun() -> {ok, 4.0} = py:await(py:spawn_call(math, sqrt, [16])) end),
    Self = self(),
    latency("py:cast(erlang, send, ...) until the message arrives",
            fun() -> ok = py:cast(erlang, send, [Self, pong]), receive pong -> ok end end),
    [throughput(C) || C <- [1, 8, 64]],
    application:stop(erlang_python).

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
