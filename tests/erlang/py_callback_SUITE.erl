%% Python calling Erlang: registered functions, reentrant callbacks, threads, errors,
%% and erlang.send to pids, names and names on other nodes.
-module(py_callback_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, end_per_testcase/2]).
-export([lookup/1, collect_output/2]).
-export([issue_example/1, run_command_with_ports/1, module_function_registration/1,
         unregister_a_function/1, unknown_names/1, exceptions_become_erlang_error/1,
         results_convert_like_arguments/1, readme_reentrancy_example/1,
         ten_levels_with_explicit_context/1, ten_levels_unqualified/1, threads_call_erlang/1,
         many_erlang_callers/1, unanswered_callback_is_bounded/1, send_to_pids_and_names/1,
         send_to_other_node/1, self_whereis_atom/1]).

all() ->
    [issue_example, run_command_with_ports, module_function_registration, unregister_a_function,
     unknown_names, exceptions_become_erlang_error, results_convert_like_arguments,
     readme_reentrancy_example, ten_levels_with_explicit_context, ten_levels_unqualified,
     threads_call_erlang, many_erlang_callers, unanswered_callback_is_bounded,
     send_to_pids_and_names, send_to_other_node, self_whereis_atom].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

end_per_testcase(_Case, _Config) ->
    [py:unregister_function(N) || N <- [my_func, run_command, lookup, boom, down, double_via_python,
                                         stuck, weird, echo, add]],
    ok.

%% Helpers registered as Module:Function(ArgsList).
lookup([Key]) -> maps:get(Key, #{<<"a">> => 1, <<"b">> => 2}, not_found).

%% The seed's helper: the output and exit status of a port.
collect_output(Port, Acc) ->
    receive
        {Port, {data, Data}} -> collect_output(Port, [Data | Acc]);
        {Port, {exit_status, Status}} -> {Status, iolist_to_binary(lists:reverse(Acc))}
    end.

issue_example(_Config) ->
    ok = py:register_function(my_func, fun([X, Y]) -> X + Y end),
    ok = py:exec(py:context(1), <<"from erlang import my_func\n"
                                  "import erlang\n"
                                  "a = my_func(10, 20)\n"
                                  "b = erlang.my_func(10, 20)\n"
                                  "c = erlang.call('my_func', 10, 20)\n">>),
    {ok, [30, 30, 30]} = py:eval(py:context(1), <<"[a, b, c]">>).

%% The seed's run_command: subprocesses through an Erlang port.
run_command_with_ports(_Config) ->
    ok = py:register_function(run_command, fun([Cmd, Args]) ->
        Port = open_port({spawn_executable, Cmd}, [{args, Args}, binary, exit_status, stderr_to_stdout]),
        collect_output(Port, [])
    end),
    {ok, [0, <<"hello from a port\n">>]} =
        py:eval(<<"(lambda r: [r[0], r[1]])(__import__('erlang').run_command('/bin/echo', ['hello from a port']))">>),
    ok = py:exec(py:context(1), <<"from erlang import run_command\n"
                                  "status, output = run_command('/bin/sh', ['-c', 'echo out; exit 3'])\n">>),
    {ok, {3, <<"out\n">>}} = py:eval(py:context(1), <<"(status, output)">>).

module_function_registration(_Config) ->
    ok = py:register_function(lookup, ?MODULE, lookup),
    {ok, 2} = py:eval(<<"__import__('erlang').lookup('b')">>),
    {ok, <<"not_found">>} = py:eval(<<"str(__import__('erlang').lookup('zzz'))">>),
    {error, {badarg, {1, 2}}} = py:register_function(x, 1, 2),
    {error, {badarg, 3}} = py:register_function(3, fun(_) -> ok end),
    {error, {badarg, not_a_fun}} = py:register_function(x, not_a_fun).

unregister_a_function(_Config) ->
    ok = py:register_function(echo, fun([X]) -> X end),
    {ok, 5} = py:eval(<<"__import__('erlang').echo(5)">>),
    ok = py:unregister_function(echo),
    {error, {'AttributeError', _}} = py:eval(<<"__import__('erlang').echo(5)">>),
    {error, {'AttributeError', _}} = py:eval(<<"__import__('erlang').call('echo', 5)">>),
    {error, {'ImportError', _}} = py:exec(<<"from erlang import echo">>).

unknown_names(_Config) ->
    {error, {'AttributeError', Msg}} = py:eval(<<"__import__('erlang').no_such_function">>),
    true = binary:match(Msg, <<"no_such_function">>) =/= nomatch,
    {error, {'ImportError', _}} = py:exec(<<"from erlang import no_such_function">>),
    {error, {'TypeError', _}} = py:eval(<<"__import__('erlang').call(42)">>).

exceptions_become_erlang_error(_Config) ->
    ok = py:register_function(boom, fun([<<"error">>]) -> error(badarg);
                                        ([<<"exit">>]) -> exit({shutdown, why});
                                        ([<<"throw">>]) -> throw(ball);
                                        ([<<"badarith">>]) -> 1 / zero_or_atom()
                                     end),
    ok = py:exec(py:context(1), <<"import erlang\n"
                                  "def catch(kind):\n"
                                  "    try:\n"
                                  "        erlang.boom(kind)\n"
                                  "    except erlang.ErlangError as e:\n"
                                  "        return (e.erlang_class, e.reason, str(e), isinstance(e, Exception))\n">>),
    {ok, {error, badarg, Msg1, true}} = py:call(py:context(1), '__main__', 'catch', [<<"error">>]),
    true = binary:match(Msg1, <<"error: badarg">>) =/= nomatch,
    {ok, {exit, {shutdown, why}, _, true}} = py:call(py:context(1), '__main__', 'catch', [<<"exit">>]),
    {ok, {throw, ball, _, true}} = py:call(py:context(1), '__main__', 'catch', [<<"throw">>]),
    {ok, {error, badarith, _, true}} = py:call(py:context(1), '__main__', 'catch', [<<"badarith">>]),
    %% Uncaught, it is an ordinary Python exception for the caller of Python.
    {error, {'ErlangError', _}} = py:eval(<<"__import__('erlang').boom('error')">>).

zero_or_atom() -> list_to_atom("zero").

results_convert_like_arguments(_Config) ->
    %% Python strings arrive as binaries.
    ok = py:register_function(weird, fun([<<"what">>]) -> #{tuple => {1, two}, list => [<<"x">>, 2.5], pid => self()};
                                         ([<<"fun_please">>]) -> fun() -> ok end
                                      end),
    {ok, true} = py:eval(<<"(lambda r: r['tuple'] == (1, 'two') and r['list'] == ['x', 2.5]"
                           " and isinstance(r['pid'], __import__('erlang').Pid))"
                           "(__import__('erlang').weird('what'))">>),
    {error, {'TypeError', <<"cannot convert an Erlang fun to Python">>}} =
        py:eval(<<"__import__('erlang').weird('fun_please')">>).

%% The example of docs/python.md: Python process -> Erlang double_via_python -> Python double,
%% in the same context, which keeps serving while process waits.
readme_reentrancy_example(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import erlang\n"
                        "def double(x):\n"
                        "    return x * 2\n"
                        "def process(x):\n"
                        "    return erlang.call('double_via_python', x) + 1\n">>),
    ok = py:register_function(double_via_python, fun([X]) ->
        {ok, Doubled} = py:call('__main__', double, [X]),   % back into the calling context
        Doubled
    end),
    {ok, 43} = py:call(Ctx, '__main__', process, [21]).

ten_levels_with_explicit_context(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import erlang\n"
                        "def down(n):\n"
                        "    return 0 if n == 0 else 1 + erlang.down(n - 1)\n">>),
    ok = py:register_function(down, fun([N]) -> {ok, R} = py:call(Ctx, '__main__', down, [N]), R end),
    {ok, 10} = py:call(Ctx, '__main__', down, [10]).

ten_levels_unqualified(_Config) ->
    {ok, Ctx} = py_context:start_link(60, auto),
    ok = py:exec(Ctx, <<"import erlang\n"
                        "level = 0\n"
                        "def down(n):\n"
                        "    global level\n"
                        "    level += 1\n"
                        "    return 0 if n == 0 else 1 + erlang.down(n - 1)\n">>),
    %% No context named: the callback's process is bound to the calling context.
    ok = py:register_function(down, fun([N]) -> {ok, R} = py:call('__main__', down, [N]), R end),
    {ok, 10} = py:call(Ctx, '__main__', down, [10]),
    {ok, 11} = py:eval(Ctx, <<"level">>),
    ok = py_context:stop(Ctx).

%% 16 Python threads x 1,000 calls each, concurrently: every result right.
threads_call_erlang(_Config) ->
    ok = py:register_function(add, fun([A, B]) -> A + B end),
    {ok, Ctx} = py_context:start_link(61, auto),
    ok = py:exec(Ctx, <<"import erlang\n"
                        "from concurrent.futures import ThreadPoolExecutor\n"
                        "def work(t):\n"
                        "    return all(erlang.add(t, i) == t + i for i in range(1000))\n"
                        "def run():\n"
                        "    with ThreadPoolExecutor(max_workers=16) as pool:\n"
                        "        return list(pool.map(work, range(16)))\n">>),
    {ok, Results} = py:call(Ctx, '__main__', run, [], #{}, 120000),
    16 = length(Results),
    true = lists:all(fun(R) -> R =:= true end, Results),
    ok = py_context:stop(Ctx).

%% 100 Erlang processes call Python functions that call back into Erlang.
many_erlang_callers(_Config) ->
    ok = py:register_function(add, fun([A, B]) -> A + B end),
    {ok, Contexts} = py_context_router:start_pool(callbacks, 4, worker),
    [ok = py:exec(C, <<"import erlang\ndef f(x):\n    return erlang.add(x, x) * 10\n">>) || C <- Contexts],
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               Results = [py:call(callbacks, '__main__', f, [I]) || I <- lists:seq(1, 20)],
                               Parent ! {self(), Results}
                       end) || _ <- lists:seq(1, 100)],
    Expected = [{ok, I * 20} || I <- lists:seq(1, 20)],
    [receive {P, Expected} -> ok after 60000 -> ct:fail(timeout) end || P <- Pids],
    ok = py_context_router:stop_pool(callbacks).

%% A callback that never answers is bounded by the calling request's timeout.
unanswered_callback_is_bounded(_Config) ->
    ok = py:register_function(stuck, fun(_) -> receive never -> ok end end),
    {ok, Ctx} = py_context:start_link(62, auto),
    {error, timeout} = py:call(Ctx, erlang, stuck, [], #{}, 200),
    {ok, 3} = py:eval(Ctx, <<"1 + 2">>),
    ok = py_context:stop(Ctx).

send_to_pids_and_names(_Config) ->
    Self = self(),
    register(py_callback_suite_receiver, Self),
    try
        ok = py:exec(<<"import erlang\n"
                       "erlang.send(erlang.self(), ('to_pid', 1))\n"
                       "erlang.send('py_callback_suite_receiver', ('to_name', 2))\n"
                       "erlang.send(erlang.Atom('py_callback_suite_receiver'), ('to_atom', 3))\n">>),
        {ok, _} = py:eval(<<"__import__('erlang').send((__import__('erlang').atom('py_callback_suite_receiver'),"
                            " n), ('to_local_node', 4))">>, #{n => node()}),
        [receive {Tag, N} -> ok after 5000 -> ct:fail({missing, Tag}) end
         || {Tag, N} <- [{<<"to_pid">>, 1}, {<<"to_name">>, 2}, {<<"to_atom">>, 3},
                         {<<"to_local_node">>, 4}]],
        Dead = spawn(fun() -> ok end),
        {ok, none} = py:eval(<<"__import__('erlang').send(p, 'anyone?')">>, #{p => Dead}),
        {error, {'ValueError', _}} = py:eval(<<"__import__('erlang').send('nobody_registered_here', 1)">>),
        {error, {'TypeError', _}} = py:eval(<<"__import__('erlang').send(42, 1)">>)
    after
        erlang:unregister(py_callback_suite_receiver)
    end.

%% erlang.send to {name, node} and to a pid on another node reaches it (Erlang itself
%% resolves names and nodes).
send_to_other_node(_Config) ->
    case node() of
        nonode@nohost ->
            os:cmd("epmd -daemon"),
            {ok, _} = net_kernel:start([py_callback_suite, shortnames]);
        _ ->
            ok
    end,
    {ok, Peer, Node} = peer:start_link(#{name => peer:random_name()}),
    try
        Remote = erpc:call(Node, erlang, spawn, [timer, sleep, [infinity]]),
        true = erpc:call(Node, erlang, register, [remote_server, Remote]),
        {ok, none} = py:eval(<<"__import__('erlang').send(('remote_server', n), {'event': 'user_login', 'user': 123})">>,
                             #{n => atom_to_binary(Node, utf8)}),
        {ok, none} = py:eval(<<"__import__('erlang').send(p, 'by pid')">>, #{p => Remote}),
        Expected = [#{<<"event">> => <<"user_login">>, <<"user">> => 123}, <<"by pid">>],
        wait_for_messages(Node, Remote, Expected, 50)
    after
        peer:stop(Peer)
    end.

wait_for_messages(Node, Pid, Expected, 0) ->
    ct:fail({not_received, Expected, erpc:call(Node, erlang, process_info, [Pid, messages])});
wait_for_messages(Node, Pid, Expected, N) ->
    case erpc:call(Node, erlang, process_info, [Pid, messages]) of
        {messages, Expected} -> ok;
        _ -> timer:sleep(100), wait_for_messages(Node, Pid, Expected, N - 1)
    end.

self_whereis_atom(_Config) ->
    Self = self(),
    {ok, Self} = py:eval(<<"__import__('erlang').self()">>),
    Router = whereis(py_context_router),
    {ok, Router} = py:eval(<<"__import__('erlang').whereis('py_context_router')">>),
    {ok, none} = py:eval(<<"__import__('erlang').whereis('surely_nobody_is_registered_as_this')">>),
    {ok, ok} = py:eval(<<"__import__('erlang').atom('ok')">>),
    {ok, true} = py:eval(<<"isinstance(__import__('erlang').atom('ok'), __import__('erlang').Atom)">>),
    Fresh = <<"epy_fresh_atom_", (integer_to_binary(erlang:unique_integer([positive])))/binary>>,
    {ok, FreshAtom} = py:eval(<<"__import__('erlang').atom(n)">>, #{n => Fresh}),
    Fresh = atom_to_binary(FreshAtom, utf8),
    %% Self from a thread that made no request: None.
    {ok, none} = py:eval(<<"(lambda r: (__import__('threading').Thread(target=lambda: r.append("
                           "__import__('erlang').self())).start(), __import__('time').sleep(0.2), r[0])[2])([])">>).
