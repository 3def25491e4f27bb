%% Helpers shared by the bench sections: latency samples, percentiles, CPU hogs.
-module(bench_util).

-export([warm_up/0, latency/2, latency/3, samples/2, pct/2, median/1, hogs/1, stop_hogs/1,
         with_hogs/2, sections/0]).

-define(SEQ, 100000).

sections() -> [].

warm_up() ->
    [{ok, _} = py:call(math, sqrt, [16]) || _ <- lists:seq(1, 20000)],
    ok.

%% Prints p50 and p99 of ?SEQ sequential runs of Fun.
latency(Name, Fun) ->
    latency(Name, Fun, ?SEQ).

latency(Name, Fun, N) ->
    Samples = samples(Fun, N),
    io:format("~-55s p50 ~6.2f us   p99 ~7.2f us~n",
              [Name, pct(Samples, 50) / 1000, pct(Samples, 99) / 1000]),
    Samples.

%% N sequential runs of Fun, sorted durations in nanoseconds. They run in a process of
%% their own whose heap is big enough from the start: a garbage collection in the middle
%% of the samples would be measured as the engine's.
samples(Fun, N) ->
    Parent = self(),
    {Pid, Ref} = spawn_opt(fun() -> Parent ! {self(), sample(Fun, N, [])} end,
                           [monitor, {min_heap_size, 4 * N + 100000}]),
    receive
        {Pid, Samples} -> erlang:demonitor(Ref, [flush]), lists:sort(Samples);
        {'DOWN', Ref, process, Pid, Reason} -> error(Reason)
    end.

sample(_Fun, 0, Acc) -> Acc;
sample(Fun, N, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    Fun(),
    sample(Fun, N - 1, [erlang:monotonic_time(nanosecond) - T0 | Acc]).

pct(Sorted, P) ->
    lists:nth(max(1, length(Sorted) * P div 100), Sorted).

median(List) ->
    pct(lists:sort(List), 50).

%% N CPU-bound OS processes (`while :; do :; done`), as the issue describes a busy machine.
hogs(N) ->
    [list_to_integer(string:trim(os:cmd("sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $!")))
     || _ <- lists:seq(1, N)].

stop_hogs(Pids) ->
    [os:cmd("kill " ++ integer_to_list(P)) || P <- Pids],
    ok.

with_hogs(N, Fun) ->
    Hogs = hogs(N),
    try Fun() after stop_hogs(Hogs) end.
