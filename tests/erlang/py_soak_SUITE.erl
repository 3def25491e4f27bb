%% Soak (long): mixed traffic from 200 processes (calls, exceptions, timeouts, interrupts,
%% channel messages, state updates). Every operation gets its answer, the counts add up,
%% and the VM's memory, the process's threads and descriptors come back to where they
%% were; a second half of the traffic must not grow memory the way a leak would.
%% The size: EPY_SOAK_CALLS operations (default 1000000, about 15 s on 2 vCPUs).
-module(py_soak_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, suite/0, init_per_suite/1, end_per_suite/1]).
-export([mixed_traffic/1]).

-define(PROCESSES, 200).

suite() -> [{timetrap, {minutes, 30}}].

all() -> [mixed_traffic].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

size() ->
    case os:getenv("EPY_SOAK_CALLS") of
        false -> 1000000;
        N -> list_to_integer(N)
    end.

mixed_traffic(_Config) ->
    Total = size(),
    Half = Total div 2,
    {ok, Sink} = py_context:start_link(990, auto),
    ok = py:exec(Sink, <<"import erlang\n"
                         "def drain(ch):\n"
                         "    n = 0\n"
                         "    for _ in ch:\n"
                         "        n += 1\n"
                         "    return n\n">>),
    [ok = py:exec(C, <<"import erlang, time">>) || C <- py_context_router:contexts()],
    round_of(Sink, 2000),                    % warm up: every kind of operation once
    Start = settle(),
    ct:log("start: ~p", [Start]),
    round_of(Sink, Half),
    Middle = settle(),
    round_of(Sink, Total - Half),
    End = settle(),
    ct:log("after ~p operations: middle ~p, end ~p", [Total, Middle, End]),
    py_context:stop(Sink),
    %% Threads and descriptors: exactly where they were.
    #{threads := Threads, fds := Fds} = Start,
    #{threads := Threads, fds := Fds} = End,
    %% Memory: the second half grows nothing the way a leak would (a few bytes per
    %% operation would show over tens of thousands of them).
    #{beam := BeamMid, rss := RssMid} = Middle,
    #{beam := BeamEnd, rss := RssEnd} = End,
    Slack = 8 * 1024 * 1024,
    case {BeamEnd - BeamMid < Slack + 32 * Half, RssEnd - RssMid < Slack + 64 * Half} of
        {true, true} -> ok;
        _ -> ct:fail({memory_grew, Middle, End})
    end.

%% N operations spread over ?PROCESSES processes; checks every answer and the counts.
round_of(Sink, N) ->
    {ok, Ch} = py_channel:new(),
    Drain = py:spawn_call(Sink, '__main__', drain, [Ch]),
    ok = py:state_store(soak_erlang, 0),
    ok = py:state_store(soak_python, 0),
    Parent = self(),
    Each = max(1, N div ?PROCESSES),
    Pids = [spawn_link(fun() -> Parent ! {self(), worker(Ch, I, Each, #{})} end)
            || I <- lists:seq(1, ?PROCESSES)],
    Counts = lists:foldl(fun(Pid, Acc) ->
                                 receive {Pid, C} -> merge(C, Acc)
                                 after 600000 -> ct:fail(worker_stuck)
                                 end
                         end, #{}, Pids),
    ct:log("~p operations: ~p", [N, Counts]),
    ok = py_channel:close(Ch),
    Sent = maps:get(channel, Counts, 0),
    {ok, Sent} = py:await(Drain, 60000),
    ErlangIncrs = maps:get(state_erlang, Counts, 0),
    {ok, ErlangIncrs} = py:state_fetch(soak_erlang),
    %% An interrupt may land after the increment, before the answer.
    PythonIncrs = maps:get(state_python, Counts, 0),
    Interrupted = maps:get({state_python, interrupted}, Counts, 0),
    {ok, Incremented} = py:state_fetch(soak_python),
    true = Incremented =< PythonIncrs andalso Incremented >= PythonIncrs - Interrupted,
    Counts.

worker(_Ch, _Seed, 0, Counts) ->
    Counts;
worker(Ch, Seed, Left, Counts) ->
    Kind = op(erlang:phash2({Seed, Left}, 100)),
    Counted = case run(Kind, Ch, Left) of
                  ok -> Counts;
                  interrupted -> bump({Kind, interrupted}, Counts)
              end,
    worker(Ch, Seed, Left - 1, bump(Kind, Counted)).

bump(Key, Counts) -> maps:update_with(Key, fun(C) -> C + 1 end, 1, Counts).

op(R) when R < 60 -> call;
op(R) when R < 70 -> exception;
op(R) when R < 72 -> timeout;
op(R) when R < 73 -> interrupt;
op(R) when R < 85 -> channel;
op(R) when R < 92 -> state_erlang;
op(_) -> state_python.

%% Interrupts hit whatever runs on a context, another process's request too: every Python
%% operation may also answer {error, interrupted}.
run(call, _Ch, N) ->
    Expected = N + 1,
    answered(py:call(operator, add, [N, 1]), {ok, Expected});
run(exception, _Ch, _N) ->
    answered(py:eval(<<"1 / 0">>), {error, {'ZeroDivisionError', <<"division by zero">>}});
run(timeout, _Ch, _N) ->
    %% time.sleep in a context stops at the timeout: the context is free at once.
    answered(py:call(time, sleep, [10], #{}, 2), {error, timeout});
run(interrupt, _Ch, _N) ->
    Ctx = py:context(),
    Ref = py:spawn_call(Ctx, time, sleep, [10]),
    interrupt_until_answered(Ctx, Ref, 5000);
run(channel, Ch, N) ->
    ok = py_channel:send(Ch, {item, N, <<"payload">>});
run(state_erlang, _Ch, _N) ->
    _ = py:state_incr(soak_erlang),
    ok;
run(state_python, _Ch, _N) ->
    answered(py:eval(<<"erlang.state_incr('soak_python')">>), ok).

answered(Expected, Expected) -> ok;
answered({ok, _}, ok) -> ok;
answered({error, interrupted}, _) -> interrupted;
answered(Other, Expected) -> error({unexpected, Other, Expected}).

%% Until our sleep is the one interrupted (its request may still be queued, or another
%% may run when the interrupt lands).
interrupt_until_answered(_Ctx, _Ref, 0) ->
    error(never_interrupted);
interrupt_until_answered(Ctx, Ref, Tries) ->
    _ = py:interrupt(Ctx),
    receive
        {py_result, Ref, {error, interrupted}} -> ok;
        {py_result, Ref, Other} -> error({unexpected, Other})
    after 2 ->
        interrupt_until_answered(Ctx, Ref, Tries - 1)
    end.

merge(A, B) ->
    maps:fold(fun(K, V, Acc) -> maps:update_with(K, fun(X) -> X + V end, V, Acc) end, B, A).

%% Lets the VM and Python settle, then measures.
settle() ->
    [erlang:garbage_collect(P) || P <- processes()],
    timer:sleep(200),
    #{beam => erlang:memory(total),
      rss => rss(),
      threads => length(element(2, file:list_dir("/proc/self/task"))),
      fds => length(element(2, file:list_dir("/proc/self/fd")))}.

rss() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Status, "VmRSS:\\s+(\\d+) kB", [{capture, all_but_first, binary}]),
    binary_to_integer(Kb) * 1024.
