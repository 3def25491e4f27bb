%% The core call API: call, eval, exec, spawn_call/await, cast, contexts and routing.
-module(py_call_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([issue_example/1, call_variants/1, kwargs/1, eval_variants/1, exec_variants/1,
         chardata_code/1, explicit_context_namespace/1, sticky_routing/1, bind_context/1,
         spawn_call_and_await/1, spawn_call_with_context/1, await_many/1, cast_runs/1,
         cast_fire_and_forget/1, contexts_and_router/1, start_contexts_when_running/1,
         runtime_info/1, removed_functions_are_gone/1, concurrent_callers/1,
         builtins_and_dotted_names/1]).

all() ->
    [issue_example, call_variants, kwargs, eval_variants, exec_variants, chardata_code,
     explicit_context_namespace, sticky_routing, bind_context, spawn_call_and_await,
     spawn_call_with_context, await_many, cast_runs, cast_fire_and_forget,
     contexts_and_router, start_contexts_when_running, runtime_info,
     removed_functions_are_gone, concurrent_callers, builtins_and_dotted_names].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

%% The foundation issue's shell session, exactly.
issue_example(_Config) ->
    {ok, 4.0} = py:call(math, sqrt, [16]),
    {ok, Json} = py:call(json, dumps, [#{foo => bar}], #{indent => 2}),
    <<"{\n  \"foo\": \"bar\"\n}">> = Json,
    {ok, 45} = py:eval(<<"sum(range(10))">>),
    {ok, 25} = py:eval(<<"x * y">>, #{x => 5, y => 5}),
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"counter = 0">>),
    ok = py:exec(Ctx, <<"counter += 1">>),
    {ok, 1} = py:eval(Ctx, <<"counter">>),
    Ref = py:spawn_call(math, factorial, [100]),
    {ok, Big} = py:await(Ref),
    158 = length(integer_to_list(Big)),
    Big = lists:foldl(fun(I, Acc) -> I * Acc end, 1, lists:seq(1, 100)),
    ok = py:cast(erlang, send, [self(), {done, <<"task1">>}]),
    receive {done, <<"task1">>} -> ok after 5000 -> ct:fail(no_message) end,
    {error, {'ZeroDivisionError', _}} = py:eval(<<"1/0">>),
    Expected = case py:subinterp_supported() of
                   true -> subinterp;
                   false -> multi_executor
               end,
    Expected = py:execution_mode().

call_variants(_Config) ->
    Ctx = py:context(1),
    {ok, 3} = py:call(operator, add, [1, 2]),
    {ok, 3} = py:call(operator, add, [1, 2], #{}),
    {ok, 3} = py:call(Ctx, operator, add, [1, 2]),
    {ok, 3} = py:call(Ctx, operator, add, [1, 2], #{}),
    {ok, 3} = py:call(operator, add, [1, 2], #{}, 5000),
    {ok, 3} = py:call(operator, add, [1, 2], #{}, infinity),
    {ok, 3} = py:call(<<"operator">>, <<"add">>, [1, 2]),
    {ok, 3} = py_context:call(Ctx, operator, add, [1, 2]),
    {ok, 3} = py_context:call(Ctx, operator, add, [1, 2], #{}),
    {ok, 3} = py_context:call(Ctx, operator, add, [1, 2], #{}, 1000).

kwargs(_Config) ->
    {ok, <<"a-b">>} = py:call(builtins, 'str.join', [<<"-">>, [<<"a">>, <<"b">>]]),
    {ok, [3, 2, 1]} = py:call(builtins, sorted, [[1, 3, 2]], #{reverse => true}),
    {ok, [3, 2, 1]} = py:call(builtins, sorted, [[1, 3, 2]], #{<<"reverse">> => true}),
    {error, {'TypeError', Msg}} = py:call(builtins, sorted, [[1]], #{bogus => 1}),
    true = binary:match(Msg, <<"bogus">>) =/= nomatch.

eval_variants(_Config) ->
    Ctx = py:context(1),
    {ok, 2} = py:eval(<<"1 + 1">>),
    {ok, 6} = py:eval(<<"a * b">>, #{a => 2, b => 3}),
    {ok, 6} = py:eval(<<"a * b">>, #{<<"a">> => 2, <<"b">> => 3}),
    {ok, 4} = py:eval(Ctx, <<"2 + 2">>),
    {ok, 10} = py:eval(Ctx, <<"n * 2">>, #{n => 5}),
    {ok, 10} = py_context:eval(Ctx, <<"n * 2">>, #{n => 5}),
    {ok, 8} = py_context:eval(Ctx, <<"2 ** 3">>),
    %% Locals do not leak into the namespace.
    {error, {'NameError', _}} = py:eval(Ctx, <<"n">>).

exec_variants(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"def double(x):\n    return x * 2\n">>),
    {ok, 42} = py:call(Ctx, '__main__', double, [21]),
    {ok, 42} = py:eval(Ctx, <<"double(21)">>),
    ok = py_context:exec(Ctx, <<"import math\nroot = math.sqrt(81)">>),
    {ok, 9.0} = py:eval(Ctx, <<"root">>),
    {error, {'SyntaxError', _}} = py:exec(Ctx, <<"def (:">>).

chardata_code(_Config) ->
    {ok, 3} = py:eval("1 + 2"),
    {ok, 3} = py:eval([<<"1 ">>, "+ 2"]),
    {ok, <<"é"/utf8>>} = py:eval(<<"'é'"/utf8>>),
    ok = py:exec("x_chardata = 1").

explicit_context_namespace(_Config) ->
    [Ctx1 | _] = py_context_router:contexts(),
    {ok, Own} = py_context:start_link(99, auto),
    ok = py:exec(Ctx1, <<"shared_name = 'one'">>),
    {error, {'NameError', _}} = py:eval(Own, <<"shared_name">>),
    ok = py_context:stop(Own).

%% The same process sees its own exec in a later eval (the seed's example that failed in
%% v1.8), in a fresh process each time.
sticky_routing(_Config) ->
    Parent = self(),
    [begin
         spawn_link(fun() ->
                            ok = py:exec(<<"sticky_x = ", (integer_to_binary(I))/binary>>),
                            Parent ! {I, py:eval(<<"sticky_x">>)}
                    end),
         receive {I, R} -> {ok, I} = R after 10000 -> ct:fail(timeout) end
     end || I <- lists:seq(1, 20)],
    %% Sticky: the context a process got first is the one it keeps.
    Ctx = py:context(),
    Ctx = py:context().

bind_context(_Config) ->
    Contexts = py_context_router:contexts(),
    Last = lists:last(Contexts),
    ok = py_context_router:bind_context(Last),
    Last = py_context_router:get_context(),
    ok = py:exec(<<"bound_marker = 7">>),
    {ok, 7} = py:eval(Last, <<"bound_marker">>),
    ok = py_context_router:unbind_context(),
    {error, {badarg, nope}} = py_context_router:bind_context(nope).

spawn_call_and_await(_Config) ->
    Ref = py:spawn_call(math, sqrt, [25]),
    true = is_reference(Ref),
    {ok, 5.0} = py:await(Ref),
    Ref2 = py:spawn_call(builtins, sorted, [[2, 1]], #{reverse => true}),
    {ok, [2, 1]} = py:await(Ref2, 5000),
    %% Errors come back through await as well.
    Ref3 = py:spawn_call(no_such_module_anywhere, f, []),
    {error, {'ModuleNotFoundError', _}} = py:await(Ref3),
    Ref4 = py:spawn_call(math, sqrt, not_a_list),
    {error, {badarg, args}} = py:await(Ref4),
    %% The result is an ordinary message too.
    Ref5 = py:spawn_call(operator, mul, [6, 7]),
    receive {py_result, Ref5, {ok, 42}} -> ok after 5000 -> ct:fail(no_result) end.

spawn_call_with_context(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"def triple(x):\n    return 3 * x\n">>),
    {ok, 9} = py:await(py:spawn_call(Ctx, '__main__', triple, [3])),
    {ok, 9} = py:await(py:spawn_call(Ctx, '__main__', triple, [3], #{})).

await_many(_Config) ->
    Refs = [{I, py:spawn_call(operator, mul, [I, I])} || I <- lists:seq(1, 1000)],
    [{ok, Sq} = py:await(R) || {I, R} <- Refs, Sq <- [I * I]],
    {messages, []} = process_info(self(), messages).

cast_runs(_Config) ->
    ok = py:cast(erlang, send, [self(), cast3]),
    ok = py:cast(erlang, send, [self(), cast4], #{}),
    ok = py:cast(py:context(1), erlang, send, [self(), cast_ctx]),
    [receive M -> ok after 5000 -> ct:fail({missing, M}) end || M <- [cast3, cast4, cast_ctx]],
    {error, {badarg, args}} = py:cast(erlang, send, not_a_list).

%% A cast never answers, even when the Python code fails.
cast_fire_and_forget(_Config) ->
    ok = py:cast(operator, truediv, [1, 0]),
    ok = py:cast(math, sqrt, [16]),
    {ok, _} = py:call(math, sqrt, [1]),  % same context, so the casts ran before this
    {messages, []} = process_info(self(), messages).

contexts_and_router(_Config) ->
    N = erlang:system_info(schedulers),
    N = py_context_router:num_contexts(),
    Contexts = py_context_router:contexts(),
    N = length(Contexts),
    true = lists:all(fun is_pid/1, Contexts),
    [Ctx = py:context(I) || {I, Ctx} <- lists:zip(lists:seq(1, N), Contexts)],
    [Ctx = py_context_router:get_context(I) || {I, Ctx} <- lists:zip(lists:seq(1, N), Contexts)],
    {error, {no_context, 1000}} = py:context(1000),
    {error, {badarg, 0}} = py:context(0),
    true = lists:member(py_context_router:get_context(), Contexts).

start_contexts_when_running(_Config) ->
    Contexts = py_context_router:contexts(),
    {ok, Contexts} = py:start_contexts(),
    {ok, Contexts} = py_context_router:start(),
    {ok, Contexts} = py_context_router:start(#{contexts => 8}).

runtime_info(_Config) ->
    Version = py:version(),
    {ok, Version} = py:eval(<<"'.'.join(map(str, __import__('sys').version_info[:3]))">>),
    Sub = py:subinterp_supported(),
    true = is_boolean(Sub),
    {ok, Minor} = py:eval(<<"__import__('sys').version_info.minor">>),
    Sub = (Minor >= 12),
    Mode = py:execution_mode(),
    Mode = case Sub of true -> subinterp; false -> multi_executor end,
    Timeout = py:default_timeout(),
    {ok, Timeout} = application:get_env(erlang_python, default_timeout).

removed_functions_are_gone(_Config) ->
    Removed = [{bind, 0}, {bind, 1}, {unbind, 0}, {unbind, 1}, {is_bound, 0},
               {with_context, 1}, {ctx_call, 4}, {ctx_call, 5}, {ctx_call, 6},
               {ctx_eval, 2}, {ctx_eval, 3}, {ctx_eval, 4}, {ctx_exec, 2},
               {call_async, 3}, {call_async, 4}],
    Exports = py:module_info(exports),
    [] = [F || F <- Removed, lists:member(F, Exports)].

concurrent_callers(_Config) ->
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               Results = [py:call(operator, add, [I, J]) || J <- lists:seq(1, 200)],
                               Parent ! {self(), I, Results}
                       end) || I <- lists:seq(1, 64)],
    [receive {P, I, Results} ->
             Expected = [{ok, I + J} || J <- lists:seq(1, 200)],
             Expected = Results
     after 30000 -> ct:fail(timeout)
     end || {P, I} <- lists:zip(Pids, lists:seq(1, 64))],
    ok.

builtins_and_dotted_names(_Config) ->
    {ok, 3} = py:call(builtins, len, [[1, 2, 3]]),
    {ok, <<"a/b">>} = py:call('os.path', join, [<<"a">>, <<"b">>]),
    {ok, <<"a/b">>} = py:call(os, 'path.join', [<<"a">>, <<"b">>]),
    {ok, <<"ABC">>} = py:call(builtins, 'str.upper', [<<"abc">>]),
    {ok, #{a := none}} = py:call(collections, 'OrderedDict.fromkeys', [[a]]).
