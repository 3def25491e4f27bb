#!/usr/bin/env escript
%% Runs the Common Test suites of this directory against a built application.
%%   run_suites.escript <lib dir containing erlang_python> <log dir> [Suite ...]
%% Exits non-zero if any test case failed or was skipped (a skipped test is not a pass).
-mode(compile).

main([LibDir0, LogDir0 | Suites]) ->
    %% Common Test runs each suite in a directory of its own: relative paths would break.
    LibDir = filename:absname(LibDir0),
    LogDir = filename:absname(LogDir0),
    %% Suites are compiled where they run: copy them next to the logs so that builds for
    %% different Pythons never share (or write into the source tree) compiled suites.
    SourceDir = filename:dirname(escript:script_name()),
    TestDir = filename:join(LogDir, "suites"),
    ok = filelib:ensure_dir(filename:join(TestDir, "x")),
    [{ok, _} = file:copy(F, filename:join(TestDir, filename:basename(F)))
     || F <- filelib:wildcard(filename:join(SourceDir, "*.erl"))],
    Ebin = filename:join([LibDir, "erlang_python", "ebin"]),
    true = code:add_patha(Ebin),
    os:putenv("ERL_LIBS", LibDir),
    Opts = [{dir, TestDir}, {logdir, LogDir}, {auto_compile, true}, {abort_if_missing_suites, true},
            {ct_hooks, [cth_surefire]}, {include, []}, {verbosity, 50}] ++
           [{suite, [list_to_atom(S) || S <- Suites]} || Suites =/= []],
    case ct:run_test(Opts) of
        {Ok, 0, {0, 0}} ->
            io:format("~nCommon Test: ~p passed~n", [Ok]),
            halt(0);
        {Ok, Failed, {UserSkipped, AutoSkipped}} ->
            io:format("~nCommon Test: ~p passed, ~p failed, ~p skipped, ~p auto-skipped~n",
                      [Ok, Failed, UserSkipped, AutoSkipped]),
            halt(1);
        Error ->
            io:format("~nCommon Test did not run: ~p~n", [Error]),
            halt(2)
    end;
main(_) ->
    io:format("usage: run_suites.escript LIB_DIR LOG_DIR [SUITE ...]~n"),
    halt(2).
