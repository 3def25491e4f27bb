#!/usr/bin/env escript
%% A short tour of erlang_python: run with ERL_LIBS pointing at a build's lib directory
%% (scripts/build.sh does).
-mode(compile).

main(_) ->
    logger:set_primary_config(level, warning),
    {ok, _} = application:ensure_all_started(erlang_python),
    io:format("erlang_python demo: Python ~s, ~p mode, ~p contexts~n~n",
              [py:version(), py:execution_mode(), py_context_router:num_contexts()]),

    show("py:call(math, sqrt, [16])", py:call(math, sqrt, [16])),
    show("py:call(json, dumps, [#{foo => bar}], #{indent => 2})",
         py:call(json, dumps, [#{foo => bar}], #{indent => 2})),
    show("py:eval(<<\"x * y\">>, #{x => 5, y => 5})", py:eval(<<"x * y">>, #{x => 5, y => 5})),
    show("py:eval(<<\"1/0\">>)", py:eval(<<"1/0">>)),
    {ok, F} = py:await(py:spawn_call(math, factorial, [30])),
    show("py:await(py:spawn_call(math, factorial, [30]))", {ok, F}),

    %% Each context is an interpreter of its own, with its own namespace.
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
                        "        a, b = b, a + b\n    return a\n">>),
    show("py:call(Ctx, '__main__', fib, [90])", py:call(Ctx, '__main__', fib, [90])),

    %% Many Erlang processes calling Python at once.
    N = 100000,
    Callers = 64,
    T0 = erlang:monotonic_time(microsecond),
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               [{ok, _} = py:call(operator, add, [I, 1]) || I <- lists:seq(1, N div Callers)],
                               Parent ! {done, self()}
                       end) || _ <- lists:seq(1, Callers)],
    [receive {done, P} -> ok end || P <- Pids],
    Us = erlang:monotonic_time(microsecond) - T0,
    io:format("~n~p calls from ~p processes in ~.1f ms: ~p calls/s~n",
              [N - N rem Callers, Callers, Us / 1000, round((N - N rem Callers) / Us * 1.0e6)]),

    %% CPU-bound Python on every context at once: in subinterp mode each context has its
    %% own GIL, so the contexts run in parallel.
    Work = <<"def work(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n    return s\n">>,
    Contexts = py_context_router:contexts(),
    [ok = py:exec(C, Work) || C <- Contexts],
    {OneUs, _} = timer:tc(fun() -> {ok, _} = py:call(hd(Contexts), '__main__', work, [3000000]) end),
    {AllUs, _} = timer:tc(fun() ->
                                  Refs = [py:spawn_call(C, '__main__', work, [3000000]) || C <- Contexts],
                                  [{ok, _} = py:await(R) || R <- Refs]
                          end),
    io:format("CPU-bound work: one context ~.1f ms, ~p contexts in parallel ~.1f ms~n",
              [OneUs / 1000, length(Contexts), AllUs / 1000]),
    pipeline(Contexts),
    asyncio_tasks(Ctx),
    application:stop(erlang_python),
    io:format("~ndemo done~n").

%% What this library is for: an Erlang producer feeds a channel (bounded: it waits when
%% Python falls behind), every context consumes it in parallel with channel.receive(),
%% progress is counted in the shared state, and Erlang collects the results.
pipeline(Contexts) ->
    Worker = <<"import erlang, hashlib\n"
               "from erlang.channel import ChannelClosed\n"
               "def worker(channel, name):\n"
               "    jobs = words = 0\n"
               "    digest = hashlib.sha256()\n"
               "    while True:\n"
               "        try:\n"
               "            _tag, number, text = channel.receive()\n"
               "        except ChannelClosed:\n"
               "            break\n"
               "        words += len(text.split())\n"
               "        digest.update(text.encode())\n"
               "        jobs += 1\n"
               "        if jobs % 500 == 0:\n"
               "            erlang.state_incr('demo_jobs_done', 500)\n"
               "    erlang.state_incr('demo_jobs_done', jobs % 500)\n"
               "    return {'worker': name, 'jobs': jobs, 'words': words}\n">>,
    [ok = py:exec(C, Worker) || C <- Contexts],
    ok = py:state_store(demo_jobs_done, 0),
    {ok, Ch} = py_channel:new(#{max_size => 256 * 1024}),
    Refs = [py:spawn_call(C, '__main__', worker, [Ch, I])
            || {I, C} <- lists:zip(lists:seq(1, length(Contexts)), Contexts)],
    Jobs = 200000,
    io:format("~npipeline: 1 Erlang producer -> channel -> ~p Python contexts, ~p jobs~n",
              [length(Contexts), Jobs]),
    T0 = erlang:monotonic_time(microsecond),
    Producer = spawn_link(fun() ->
                                  [ok = py_channel:send(Ch, {job, N, job_text(N)}, 10000)
                                   || N <- lists:seq(1, Jobs)],
                                  ok = py_channel:close(Ch)
                          end),
    progress(T0, Jobs),
    Results = [begin {ok, R} = py:await(Ref, 60000), R end || Ref <- Refs],
    unlink(Producer),
    Us = erlang:monotonic_time(microsecond) - T0,
    [io:format("  worker ~p: ~p jobs, ~p words~n",
               [maps:get(<<"worker">>, R), maps:get(<<"jobs">>, R), maps:get(<<"words">>, R)])
     || R <- Results],
    Jobs = lists:sum([maps:get(<<"jobs">>, R) || R <- Results]),
    io:format("  all ~p jobs done exactly once in ~.1f ms: ~p jobs/s~n",
              [Jobs, Us / 1000, round(Jobs / Us * 1.0e6)]),
    py:state_remove(demo_jobs_done).

job_text(N) ->
    <<"order ", (integer_to_binary(N))/binary, " ships three widgets to the north warehouse">>.

%% Prints the shared counter every 100 ms until every job is counted.
progress(T0, Jobs) ->
    timer:sleep(100),
    {ok, Done} = py:state_fetch(demo_jobs_done),
    Ms = (erlang:monotonic_time(microsecond) - T0) / 1000,
    io:format("  ~7.1f ms: ~7w jobs done (~w/s)~n", [Ms, Done, round(Done / Ms * 1000)]),
    case Done >= Jobs of
        true -> ok;
        false -> progress(T0, Jobs)
    end.

%% asyncio inside a context: 1,000 concurrent sleeps of 0.1 s take 0.1 s, and tasks
%% started from Erlang answer as messages.
asyncio_tasks(Ctx) ->
    ok = py:exec(Ctx, <<"import asyncio, time\n"
                        "async def many_sleeps(n):\n"
                        "    start = time.monotonic()\n"
                        "    await asyncio.gather(*[asyncio.sleep(0.1) for _ in range(n)])\n"
                        "    return round(time.monotonic() - start, 3)\n">>),
    {ok, Seconds} = py_event_loop:run(Ctx, '__main__', many_sleeps, [1000]),
    io:format("~nasyncio: 1000 concurrent asyncio.sleep(0.1) in one context took ~p s~n", [Seconds]),
    Refs = [py_event_loop:create_task(Ctx, '__main__', many_sleeps, [10]) || _ <- lists:seq(1, 100)],
    Times = [begin {ok, T} = py_event_loop:await(R, 5000), T end || R <- Refs],
    io:format("asyncio: 100 tasks from Erlang, each gathering 10 sleeps, all answered (max ~p s)~n",
              [lists:max(Times)]).

show(Expr, Result) ->
    io:format("~s~n  -> ~p~n", [Expr, Result]).
