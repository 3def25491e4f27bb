%% Inputs that must give a clean error or a correct result, never a crash, hang or leak;
%% and contexts that stay isolated and keep serving after whatever their code did.
-module(py_hardening_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([hundred_megabyte_binaries/1, hundred_thousand_digit_integers/1, deep_terms/1,
         invalid_utf8/1, nul_bytes/1, unknown_names_and_bad_arguments/1, atoms_never_minted/1,
         recursion_and_memory_errors/1, isolation_of_broken_contexts/1,
         serving_after_errors_timeouts_and_interrupts/1]).

all() ->
    [hundred_megabyte_binaries, hundred_thousand_digit_integers, deep_terms, invalid_utf8,
     nul_bytes, unknown_names_and_bad_arguments, atoms_never_minted,
     recursion_and_memory_errors, isolation_of_broken_contexts,
     serving_after_errors_timeouts_and_interrupts].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

%%% ------------------------------------------------------------------------------------

hundred_megabyte_binaries(_Config) ->
    Ctx = py:context(1),
    Size = 100 * 1024 * 1024,
    Big = binary:copy(<<"ab">>, Size div 2),
    {ok, Size} = py:eval(Ctx, <<"len(v)">>, #{v => Big}),
    {ok, Out} = py:eval(Ctx, <<"b'\\xff' * (100 * 1024 * 1024)">>),  % not UTF-8: stays bytes
    Size = byte_size(Out),
    <<255, 255, _/binary>> = Out,
    %% Both ways in one call, and the memory goes back.
    {ok, Echo} = py:call(Ctx, builtins, bytes, [{bytes, Big}]),
    Size = byte_size(Echo),
    erlang:garbage_collect().

hundred_thousand_digit_integers(_Config) ->
    Ctx = py:context(1),
    N = binary_to_integer(binary:copy(<<"7">>, 100000)),
    Plus = N + 1,
    {ok, Plus} = py:eval(Ctx, <<"v + 1">>, #{v => N}),
    {ok, true} = py:eval(Ctx, <<"v % 10 == 7 and v // 10 ** 99999 == 7">>, #{v => N}),
    Neg = -N * 10,
    {ok, Neg} = py:eval(Ctx, <<"-v * 10">>, #{v => N}),
    %% Python's own guard against quadratic str(): a clean error, not a hang.
    {error, {'ValueError', _}} = py:eval(Ctx, <<"str(v)">>, #{v => N}).

deep_terms(_Config) ->
    Ctx = py:context(1),
    Deep = lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 100000)),
    {error, {'ValueError', Msg}} = py:eval(Ctx, <<"v">>, #{v => Deep}),
    {match, _} = re:run(Msg, "deeper"),
    DeepTuple = lists:foldl(fun(_, Acc) -> {Acc} end, ok, lists:seq(1, 100000)),
    {error, {'ValueError', _}} = py:eval(Ctx, <<"v">>, #{v => DeepTuple}),
    DeepMap = lists:foldl(fun(_, Acc) -> #{k => Acc} end, #{}, lists:seq(1, 5000)),
    {error, {'ValueError', _}} = py:eval(Ctx, <<"v">>, #{v => DeepMap}),
    {error, {'ValueError', _}} =
        py:eval(Ctx, <<"(lambda: [d := [], [d := [d] for _ in range(100000)], d][2])()">>),
    {ok, 2} = py:eval(Ctx, <<"1 + 1">>).

invalid_utf8(_Config) ->
    Ctx = py:context(1),
    Bad = <<16#ff, 16#fe, "text", 16#c0, 16#80>>,
    {ok, Bad} = py:eval(Ctx, <<"v">>, #{v => Bad}),  % arrives as bytes, returns as is
    {ok, true} = py:eval(Ctx, <<"isinstance(v, bytes)">>, #{v => Bad}),
    {error, {'UnicodeDecodeError', _}} = py:eval(Ctx, <<"'", 16#ff, "'">>),
    {error, {'UnicodeDecodeError', _}} = py:exec(Ctx, <<"x = '", 16#c3, "'">>),
    {error, {badarg, code}} = py:exec(Ctx, [<<"x = 1">>, 16#ffffff]),
    %% Lone surrogates out of Python are an error, not a crash.
    {error, {'UnicodeEncodeError', _}} = py:eval(Ctx, <<"'\\ud800'">>),
    {ok, 1} = py:eval(Ctx, <<"1">>).

nul_bytes(_Config) ->
    Ctx = py:context(1),
    %% (3.11 calls it a SyntaxError, 3.12+ a ValueError)
    {error, {E1, _}} = py:eval(Ctx, <<"1 +", 0, "1">>),
    {error, {E2, _}} = py:exec(Ctx, <<"x = 1", 0>>),
    [true = lists:member(E, ['SyntaxError', 'ValueError']) || E <- [E1, E2]],
    {error, {_, _}} = py:call(Ctx, <<"os", 0, "path">>, join, []),
    {error, {_, _}} = py:call(Ctx, os, <<"getcwd", 0>>, []),
    {ok, <<"a", 0, "b">>} = py:eval(Ctx, <<"'a\\x00b'">>),
    {ok, 3} = py:eval(Ctx, <<"len(v)">>, #{v => <<"a", 0, "b">>}).

unknown_names_and_bad_arguments(_Config) ->
    Ctx = py:context(1),
    {error, {'ModuleNotFoundError', _}} = py:call(Ctx, no_such_module_anywhere, f, []),
    {error, {'AttributeError', _}} = py:call(Ctx, math, no_such_function, []),
    {error, {'AttributeError', _}} = py:call(Ctx, math, 'sqrt.no.such.path', []),
    {error, {badarg, args}} = py:call(Ctx, math, sqrt, not_a_list),
    {error, {badarg, args}} = py:call(Ctx, math, sqrt, [1 | 2]),
    {error, {badarg, kwargs}} = py:call(Ctx, math, sqrt, [1], [{x, 1}]),
    {error, {badarg, module}} = py:call(Ctx, 42, sqrt, []),
    {error, {badarg, function}} = py:call(Ctx, math, {sqrt}, []),
    {error, {'TypeError', _}} = py:call(Ctx, math, sqrt, [fun() -> ok end]),
    {error, {'TypeError', _}} = py:call(Ctx, math, sqrt, [self(), make_ref(), hd(erlang:ports())]),
    {ok, 4.0} = py:call(Ctx, math, sqrt, [16]).

%% No Python string ever becomes a new atom outside the atom budget.
atoms_never_minted(_Config) ->
    Ctx = py:context(1),
    Before = erlang:system_info(atom_count),
    {ok, Strings} = py:eval(Ctx, <<"['epy_never_' + str(i) for i in range(5000)]">>),
    {ok, Dict} = py:eval(Ctx, <<"{'epy_key_' + str(i): i for i in range(5000)}">>),
    {error, {_, <<"x">>}} = py:exec(Ctx, <<"raise type('EpyNeverAtomError', (Exception,), {})('x')">>),
    true = is_binary(hd(Strings)),
    true = is_binary(hd(maps:keys(Dict))),
    After = erlang:system_info(atom_count),
    ct:log("atoms before ~p after ~p", [Before, After]),
    true = After - Before < 50.  % module loading of the test itself may add a few

recursion_and_memory_errors(_Config) ->
    Ctx = py:context(1),
    {error, {'RecursionError', _}} = py:exec(Ctx, <<"def f(n):\n    return f(n + 1)\nf(0)">>),
    {error, {'MemoryError', _}} = py:eval(Ctx, <<"bytearray(1 << 50)">>),
    {error, {'MemoryError', _}} = py:eval(Ctx, <<"[0] * (1 << 60)">>),
    {error, {'OverflowError', _}} = py:eval(Ctx, <<"2.0 ** 100000">>),
    {ok, 6} = py:eval(Ctx, <<"sum([1, 2, 3])">>).

%% A context that breaks its interpreter's sys.modules, builtins or sys.path harms no
%% other context (each OWN_GIL subinterpreter has its own). Executors share the main
%% interpreter's modules (see docs/contexts.md, Execution modes): there each keeps its __main__.
isolation_of_broken_contexts(_Config) ->
    case py:subinterp_supported() of
        true ->
            {ok, Broken} = py_context:start_link(950, subinterp),
            {ok, Healthy} = py_context:start_link(951, subinterp),
            ok = py:exec(Broken, <<"import sys, builtins\n"
                                   "sys.path[:] = []\n"
                                   "sys.modules.pop('json', None)\n"
                                   "sys.modules['math'] = None\n"
                                   "builtins.len = None\n"
                                   "builtins.__import__ = None\n">>),
            {error, _} = py:eval(Broken, <<"len([1])">>),
            {ok, 3} = py:eval(Healthy, <<"len([1, 2, 3])">>),
            {ok, 4.0} = py:call(Healthy, math, sqrt, [16]),
            {ok, <<"[1]">>} = py:call(Healthy, json, dumps, [[1]]),
            py_context:stop(Broken),
            py_context:stop(Healthy);
        false ->
            multi_executor = py:execution_mode(),
            {ok, A} = py_context:start_link(950, multi_executor),
            {ok, B} = py_context:start_link(951, multi_executor),
            ok = py:exec(A, <<"len = None\nx = 'a'">>),
            {ok, 2} = py:eval(B, <<"len([1, 2])">>),
            {error, {'NameError', _}} = py:eval(B, <<"x">>),
            py_context:stop(A),
            py_context:stop(B)
    end.

%% After an exception, a timeout or an interrupt a context answers correctly again.
serving_after_errors_timeouts_and_interrupts(_Config) ->
    {ok, Ctx} = py_context:start_link(952, auto),
    ok = py:exec(Ctx, <<"import time\ncounter = 0\n"
                        "def bump():\n    global counter\n    counter += 1\n    return counter\n">>),
    {ok, 1} = py:call(Ctx, '__main__', bump, []),
    {error, {'ZeroDivisionError', _}} = py:eval(Ctx, <<"1 / 0">>),
    {ok, 2} = py:call(Ctx, '__main__', bump, []),
    {error, timeout} = py:call(Ctx, time, sleep, [5], #{}, 50),
    {ok, 3} = py:call(Ctx, '__main__', bump, []),
    Ref = py:spawn_call(Ctx, time, sleep, [5]),
    timer:sleep(50),
    ok = py:interrupt(Ctx),
    {error, interrupted} = py:await(Ref, 5000),
    {ok, 4} = py:call(Ctx, '__main__', bump, []),
    [{ok, _} = py:call(Ctx, '__main__', bump, []) || _ <- lists:seq(1, 100)],
    {ok, 104} = py:eval(Ctx, <<"counter">>),
    py_context:stop(Ctx).
