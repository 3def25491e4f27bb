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
    application:stop(erlang_python),
    io:format("~ndemo done~n").

show(Expr, Result) ->
    io:format("~s~n  -> ~p~n", [Expr, Result]).
