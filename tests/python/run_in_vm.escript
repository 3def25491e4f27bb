#!/usr/bin/env escript
%% Runs the Python-level tests (tests/python/test_*.py) inside the VM, in a context of a
%% running erlang_python application.
%%   run_in_vm.escript <lib dir containing erlang_python>
-mode(compile).

main([LibDir0]) ->
    LibDir = filename:absname(LibDir0),
    Dir = filename:absname(filename:dirname(escript:script_name())),
    true = code:add_patha(filename:join([LibDir, "erlang_python", "ebin"])),
    ok = application:load(erlang_python),
    ok = application:set_env(erlang_python, paths, [Dir]),
    {ok, _} = application:ensure_all_started(erlang_python),
    %% Erlang functions the Python tests call.
    ok = py:register_function(py_test_add, fun([A, B]) -> A + B end),
    ok = py:register_function(py_test_fail, fun([Reason]) -> error({test_failure, Reason}) end),
    ok = py:register_function(py_test_echo, fun(Args) -> Args end),
    Results = [{Mode, run_in(Mode, Dir)} || Mode <- modes()],
    application:stop(erlang_python),
    case lists:all(fun({_, R}) -> R =:= ok end, Results) of
        true -> halt(0);
        false -> io:format("Python tests failed: ~p~n", [Results]), halt(1)
    end;
main(_) ->
    io:format("usage: run_in_vm.escript LIB_DIR~n"),
    halt(2).

%% Every mode this Python build offers: the tests run in each.
modes() ->
    case py:subinterp_supported() of
        true -> [subinterp, multi_executor];
        false -> [multi_executor]
    end.

run_in(Mode, Dir) ->
    {ok, Ctx} = py_context:start_link(1000, Mode),
    Dead = spawn(fun() -> ok end),
    Ref = make_ref(),
    Fixtures = #{collector => self(), collector_again => self(), dead_pid => Dead,
                 ref => Ref, ref_again => Ref, other_ref => make_ref(),
                 ok_atom => ok, true_atom => true, false_atom => false,
                 none_atom => none, undefined_atom => undefined,
                 values => #{int => 42, big => 1 bsl 100, float => 2.5,
                             text => <<"héllo"/utf8>>, bytes => {bytes, <<255, 0>>},
                             tuple => {1, <<"two">>}, list => [1, [2, [3]]],
                             map => #{nested => #{1 => <<"one">>}}}},
    {ok, Result} = py_context:call(Ctx, epy_test_runner, run, [list_to_binary(Dir), Fixtures],
                                   #{}, 600000),
    #{<<"ok">> := Ok, <<"tests_run">> := Run, <<"report">> := Report} = Result,
    io:format("~n== Python tests in a ~p context: ~p run ==~n~s~n", [Mode, Run, Report]),
    Sent = receive
               {python_send, [1, 2.5, <<"text">>, <<255>>, none, true, #{<<"k">> := [1]}, Big]}
                 when Big =:= 1 bsl 70 -> ok
           after 5000 -> missing_message_from_erlang_send
           end,
    py_context:stop(Ctx),
    case {Ok, Sent} of
        {true, ok} -> ok;
        _ -> {failed, Ok, Sent}
    end.
