%% Errors and bad input: every one a clear {error, ...}, never a crash or a hang;
%% timeouts interrupt Python and leave no late reply behind.
-module(py_errors_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2]).
-export([python_exceptions/1, exception_messages_are_full_utf8/1, user_exception_classes/1,
         system_exit_is_an_error/1, bad_code/1, unknown_context/1, bad_arguments/1,
         nul_bytes/1, unknown_names/1, bad_timeouts/1, timeout_interrupts_python/1,
         await_timeout_interrupts_python/1, late_reply_never_lingers/1,
         context_usable_after_errors/1]).

all() ->
    [python_exceptions, exception_messages_are_full_utf8, user_exception_classes,
     system_exit_is_an_error, bad_code, unknown_context, bad_arguments, nul_bytes,
     unknown_names, bad_timeouts, timeout_interrupts_python,
     await_timeout_interrupts_python, late_reply_never_lingers, context_usable_after_errors].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

init_per_testcase(_Case, Config) ->
    epy_ct:flush(),
    Config.

python_exceptions(_Config) ->
    {error, {'ZeroDivisionError', <<"division by zero">>}} = py:eval(<<"1/0">>),
    {error, {'NameError', <<"name 'nope' is not defined">>}} = py:eval(<<"nope">>),
    {error, {'KeyError', <<"'k'">>}} = py:eval(<<"{}['k']">>),
    {error, {'ValueError', _}} = py:call(builtins, int, [<<"x">>]),
    {error, {'TypeError', _}} = py:call(math, sqrt, [<<"x">>]),
    {error, {'SyntaxError', _}} = py:eval(<<"1 +">>),
    {error, {'RecursionError', _}} =
        py:exec(<<"def f(n):\n    return f(n + 1)\nf(0)">>).

exception_messages_are_full_utf8(_Config) ->
    Long = binary:copy(<<"é"/utf8>>, 5000),
    {error, {'ValueError', Long}} =
        py:eval(<<"(_ for _ in ()).throw(ValueError(m))">>, #{m => Long}).

user_exception_classes(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"class AppError(ValueError):\n    pass\n"
                        "def boom():\n    raise AppError('it broke')\n">>),
    {error, {'AppError', <<"it broke">>}} = py:call(Ctx, '__main__', boom, []).

system_exit_is_an_error(_Config) ->
    {error, {'SystemExit', <<"3">>}} = py:call(sys, exit, [3]),
    {ok, 1} = py:eval(<<"1">>).

bad_code(_Config) ->
    {error, {badarg, code}} = py:eval(123),
    {error, {badarg, code}} = py:exec(self()),
    {error, {badarg, code}} = py:eval([1000000000]),
    {error, {'UnicodeDecodeError', _}} = py:eval(<<255, 254>>),
    {error, {badarg, locals}} = py_context:eval(py:context(1), <<"1">>, not_a_map).

unknown_context(_Config) ->
    Dead = spawn(fun() -> ok end),
    {error, {no_context, Dead}} = py:call(Dead, math, sqrt, [1]),
    {error, {no_context, Dead}} = py:eval(Dead, <<"1">>),
    {error, {no_context, Dead}} = py:exec(Dead, <<"1">>),
    {error, {no_context, Dead}} = py:await(py:spawn_call(Dead, math, sqrt, [1])),
    {error, {no_pool, not_a_pool}} = py:eval(not_a_pool, <<"1">>, #{}),
    {error, {no_context, "not a pid"}} = py:exec("not a pid", <<"1">>),
    Self = self(),
    {error, {no_context, Self}} = py_context:call(Self, math, sqrt, [1]).

bad_arguments(_Config) ->
    {error, {badarg, args}} = py:call(math, sqrt, not_a_list),
    {error, {badarg, args}} = py:call(math, sqrt, [1 | 2]),
    {error, {badarg, module}} = py:call(123, sqrt, [1]),
    {error, {badarg, function}} = py:call(math, {sqrt}, [1]),
    {error, {badarg, kwargs}} = py_context:call(py:context(1), math, sqrt, [1], [not_a_map]),
    {error, {'TypeError', _}} = py:call(builtins, sorted, [[1]], #{{key} => 1}),
    {error, {badarg, _}} = py:eval(<<"1">>, not_a_map).

nul_bytes(_Config) ->
    {error, {'ValueError', <<"module name contains a NUL byte">>}} =
        py:call(<<"ma", 0, "th">>, sqrt, [1]),
    {error, {'ValueError', <<"function name contains a NUL byte">>}} =
        py:call(math, <<"sq", 0, "rt">>, [1]),
    {error, {'ValueError', <<"source code cannot contain null bytes">>}} =
        py:eval(<<"1", 0, "+1">>),
    {ok, <<"a", 0, "b">>} = py:call(operator, add, [<<"a", 0>>, <<"b">>]).

unknown_names(_Config) ->
    {error, {'ModuleNotFoundError', <<"No module named 'no_such_module'">>}} =
        py:call(no_such_module, f, []),
    {error, {'AttributeError', _}} = py:call(math, no_such_function, []),
    {error, {'ValueError', <<"function name is empty">>}} = py:call(math, <<>>, []).

bad_timeouts(_Config) ->
    {error, {badarg, -1}} = py:call(math, sqrt, [1], #{}, -1),
    {error, {badarg, soon}} = py:await(make_ref(), soon),
    {error, {badarg, not_a_ref}} = py:await(not_a_ref).

%% A call that times out is interrupted in Python: the context answers the next call at
%% once instead of spinning forever.
timeout_interrupts_python(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"def spin():\n    while True:\n        pass\n">>),
    {error, timeout} = py_context:call(Ctx, '__main__', spin, [], #{}, 200),
    {ok, 2} = py_context:eval(Ctx, <<"1 + 1">>, #{}, 5000),
    {error, timeout} = py_context:eval(Ctx, <<"[0 for _ in iter(int, 1)]">>, #{}, 100),
    {ok, 3} = py_context:eval(Ctx, <<"1 + 2">>, #{}, 5000),
    {error, timeout} = py_context:exec(Ctx, <<"while True:\n    pass">>, 100),
    ok = py_context:exec(Ctx, <<"after_timeout = True">>, 5000),
    {messages, []} = process_info(self(), messages).

await_timeout_interrupts_python(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"def spin():\n    while True:\n        pass\n">>),
    Ref = py:spawn_call(Ctx, '__main__', spin, []),
    {error, timeout} = py:await(Ref, 200),
    {ok, 4} = py_context:eval(Ctx, <<"2 + 2">>, #{}, 5000),
    {messages, []} = process_info(self(), messages).

%% Whatever the race between a reply and a timeout, the caller either gets the result or
%% {error, timeout}, and nothing is left in its mailbox.
late_reply_never_lingers(_Config) ->
    Ctx = py:context(1),
    Results = [py_context:call(Ctx, time, sleep, [0.001 * (I rem 3)], #{}, I rem 4)
               || I <- lists:seq(1, 300)],
    true = lists:all(fun({ok, none}) -> true; ({error, timeout}) -> true; (_) -> false end,
                     Results),
    timer:sleep(50),
    {messages, []} = process_info(self(), messages).

context_usable_after_errors(_Config) ->
    Ctx = py:context(1),
    [begin
         {error, _} = py:eval(Ctx, <<"1/0">>),
         {error, _} = py:call(Ctx, nope, nope, []),
         {error, _} = py:eval(Ctx, <<"object()">>),
         {ok, 7} = py:eval(Ctx, <<"3 + 4">>)
     end || _ <- lists:seq(1, 50)],
    ok.
