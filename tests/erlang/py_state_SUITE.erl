%% The shared state from Erlang and from Python: one store for the whole node.
-module(py_state_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2]).
-export([issue_example_erlang/1, issue_example_python/1, keys_are_text/1,
         values_round_trip/1, cross_language_visibility/1, counters/1,
         counters_refuse_non_integers/1, exact_counters_under_contention/1, cas/1,
         subscriptions/1, dead_subscribers_are_dropped/1, python_waits_for_a_change/1,
         waiting_context_keeps_serving/1, bounds/1]).

all() ->
    [issue_example_erlang, issue_example_python, keys_are_text, values_round_trip,
     cross_language_visibility, counters, counters_refuse_non_integers,
     exact_counters_under_contention, cas, subscriptions, dead_subscribers_are_dropped,
     python_waits_for_a_change, waiting_context_keeps_serving, bounds].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

init_per_testcase(_Case, Config) ->
    ok = py:state_clear(),
    epy_ct:flush(),
    Config.

%% The issue's Erlang example, exactly.
issue_example_erlang(_Config) ->
    ok = py:state_store(<<"my_key">>, #{value => 42}),
    {ok, #{value := 42}} = py:state_fetch(<<"my_key">>),
    1 = py:state_incr(<<"hits">>), 11 = py:state_incr(<<"hits">>, 10), 10 = py:state_decr(<<"hits">>),
    Keys = py:state_keys(), ok = py:state_remove(<<"my_key">>), ok = py:state_clear(),
    [<<"hits">>, <<"my_key">>] = lists:sort(Keys),
    [] = py:state_keys(),
    {error, not_found} = py:state_fetch(<<"my_key">>).

%% The issue's Python example, exactly.
issue_example_python(_Config) ->
    ok = py:exec(<<"from erlang import state_set, state_get, state_delete, state_keys, state_incr, state_decr\n"
                   "state_set('config', {'key': 'value'})\n"
                   "assert state_get('config') == {'key': 'value'}, state_get('config')\n"
                   "assert state_get('missing') is None\n"
                   "assert state_get('missing', 7) == 7\n"
                   "assert state_incr('requests') == 1\n"
                   "assert state_incr('requests', 10) == 11\n"
                   "assert state_decr('requests') == 10\n"
                   "assert sorted(state_keys()) == ['config', 'requests'], state_keys()\n"
                   "state_delete('config')\n"
                   "assert state_keys() == ['requests']\n">>),
    {ok, 10} = py:state_fetch(requests).

keys_are_text(_Config) ->
    ok = py:state_store(hits, 1),
    {ok, 1} = py:state_fetch(<<"hits">>),
    2 = py:state_incr(hits),
    {ok, 2} = py:eval(<<"__import__('erlang').state_get('hits')">>),
    Unicode = binary_to_atom(<<"clé"/utf8>>, utf8),
    ok = py:state_store(Unicode, x),
    {ok, x} = py:state_fetch(<<"clé"/utf8>>),
    {ok, true} = py:eval(<<"'clé' in __import__('erlang').state_keys()"/utf8>>),
    [{error, badarg} = py:state_store(K, 1) || K <- [1, "list", {t}, <<255>>]],
    {error, badarg} = py:state_fetch(1),
    {error, badarg} = py:state_incr(1.5),
    {error, {'TypeError', <<"state keys are str, not int">>}} =
        py:eval(<<"__import__('erlang').state_set(1, 2)">>),
    {error, {'TypeError', _}} = py:eval(<<"__import__('erlang').state_get(b'k')">>).

values_round_trip(_Config) ->
    Values = [0, -1, 1 bsl 62, 1 bsl 100, -(1 bsl 70), 1.5, atom, true, false, none,
              <<"text">>, <<255, 0>>, [1, [2, [3]]], {a, {b, c}}, #{k => v, 1 => [x]},
              self(), make_ref(), [], {}, #{}],
    [begin
         ok = py:state_store(v, V),
         {ok, V} = py:state_fetch(v),
         %% Through Python and back: Python's view converts as a call result does.
         {ok, _} = py:eval(<<"__import__('erlang').state_get('v')">>)
     end || V <- Values],
    ok = py:state_store(t, {a, 1}),
    {ok, {a, 1}} = py:eval(<<"__import__('erlang').state_get('t')">>),
    %% From Python: converted once, on the way in.
    ok = py:exec(<<"import erlang\n"
                   "erlang.state_set('py', {'list': [1, 2.5, None, True], 'big': 2**80, 'b': b'\\xff'})\n">>),
    {ok, #{<<"list">> := [1, 2.5, none, true], <<"big">> := Big, <<"b">> := <<255>>}} =
        py:state_fetch(py),
    Big = 1 bsl 80,
    {error, {'TypeError', <<"cannot convert object to an Erlang term">>}} =
        py:eval(<<"__import__('erlang').state_set('bad', object())">>).

cross_language_visibility(_Config) ->
    Contexts = py_context_router:contexts(),
    {ok, Own} = py_context:start_link(50, auto),
    ok = py:state_store(shared, <<"from erlang">>),
    [{ok, <<"from erlang">>} = py:eval(C, <<"__import__('erlang').state_get('shared')">>)
     || C <- [Own | Contexts]],
    ok = py:exec(hd(Contexts), <<"__import__('erlang').state_set('shared', 'from context 1')">>),
    [{ok, <<"from context 1">>} = py:eval(C, <<"__import__('erlang').state_get('shared')">>)
     || C <- [Own | Contexts]],
    {ok, <<"from context 1">>} = py:state_fetch(shared),
    ok = py_context:stop(Own).

counters(_Config) ->
    5 = py:state_incr(c, 5),
    -5 = py:state_decr(c, 10),
    {ok, -4} = py:eval(<<"__import__('erlang').state_incr('c')">>),
    {ok, -6} = py:eval(<<"__import__('erlang').state_decr('c', 2)">>),
    ok = py:state_store(max, (1 bsl 63) - 1),
    {error, overflow} = py:state_incr(max),
    {error, {'OverflowError', _}} = py:eval(<<"__import__('erlang').state_incr('max')">>),
    {error, {badarg, 1.0}} = py:state_incr(c, 1.0).

counters_refuse_non_integers(_Config) ->
    ok = py:state_store(name, <<"text">>),
    {error, not_integer} = py:state_incr(name),
    {error, not_integer} = py:state_decr(name),
    {error, {'TypeError', _}} = py:eval(<<"__import__('erlang').state_incr('name')">>),
    {ok, <<"text">>} = py:state_fetch(name),
    ok = py:state_store(big, 1 bsl 70),
    {error, not_integer} = py:state_incr(big).

%% 8 Erlang processes and 4 contexts increment one key 10,000 times each: exactly 120,000.
exact_counters_under_contention(_Config) ->
    {ok, Contexts} = py_context_router:start_pool(counters, 4, worker),
    Parent = self(),
    Erlang = [spawn_link(fun() ->
                                 [py:state_incr(<<"total">>) || _ <- lists:seq(1, 10000)],
                                 Parent ! done
                         end) || _ <- lists:seq(1, 8)],
    Python = [py:spawn_call(C, builtins, exec,
                            [<<"from erlang import state_incr\n"
                               "for _ in range(10000):\n    state_incr('total')\n">>, #{}])
              || C <- Contexts],
    [receive done -> ok end || _ <- Erlang],
    [{ok, none} = py:await(R, 60000) || R <- Python],
    {ok, 120000} = py:state_fetch(<<"total">>),
    ok = py_context_router:stop_pool(counters).

cas(_Config) ->
    true = py:state_cas(k, none, 1),        % absent: none matches
    false = py:state_cas(k, none, 2),
    true = py:state_cas(k, 1, {two}),
    false = py:state_cas(k, 1, 3),
    {ok, {two}} = py:state_fetch(k),
    %% The stored {two} is a tuple of an atom: in Python, (Atom('two'),); a plain str would
    %% be a binary and not match.
    {ok, [false, true, false]} =
        py:eval(<<"[__import__('erlang').state_cas('k', ('two',), 'x'),"
                  " __import__('erlang').state_cas('k', (__import__('erlang').Atom('two'),), 'three'),"
                  " __import__('erlang').state_cas('k', 'nope', 'four')]">>),
    {ok, <<"three">>} = py:state_fetch(k),
    {ok, true} = py:eval(<<"__import__('erlang').state_cas('fresh', None, 0)">>),
    {ok, 0} = py:state_fetch(fresh).

subscriptions(_Config) ->
    ok = py:state_subscribe(watched),
    ok = py:state_subscribe(<<"watched">>),  % the same key: one subscription
    ok = py:state_store(watched, 1),
    {py_state, <<"watched">>, {set, 1}} = next(),
    2 = py:state_incr(watched),
    {py_state, <<"watched">>, {set, 2}} = next(),
    ok = py:exec(<<"__import__('erlang').state_set('watched', [1, 'x'])">>),
    {py_state, <<"watched">>, {set, [1, <<"x">>]}} = next(),
    true = py:state_cas(watched, [1, <<"x">>], done),
    {py_state, <<"watched">>, {set, done}} = next(),
    ok = py:exec(<<"__import__('erlang').state_delete('watched')">>),
    {py_state, <<"watched">>, deleted} = next(),
    ok = py:state_store(other, 1),
    nothing = next(),
    ok = py:state_store(watched, 3),
    ok = py:state_clear(),
    {py_state, <<"watched">>, {set, 3}} = next(),
    {py_state, <<"watched">>, deleted} = next(),
    ok = py:state_unsubscribe(watched),
    ok = py:state_store(watched, 4),
    nothing = next(),
    {error, badarg} = py:state_subscribe(42).

next() ->
    receive {py_state, _, _} = M -> M after 1000 -> nothing end.

dead_subscribers_are_dropped(_Config) ->
    Parent = self(),
    Subscribers = [spawn(fun() ->
                                 ok = py:state_subscribe(s),
                                 Parent ! subscribed,
                                 receive stop -> ok end
                         end) || _ <- lists:seq(1, 100)],
    [receive subscribed -> ok end || _ <- Subscribers],
    [exit(S, kill) || S <- Subscribers],
    timer:sleep(100),
    %% Changes reach nobody now, and nothing breaks.
    [ok = py:state_store(s, I) || I <- lists:seq(1, 100)],
    ok = py:state_subscribe(s),
    ok = py:state_store(s, last),
    {py_state, <<"s">>, {set, last}} = next().

%% Python waits for a change made by Erlang.
python_waits_for_a_change(_Config) ->
    Ctx = py:context(1),
    Ref = py:spawn_call(Ctx, erlang, state_wait, [<<"signal">>, 30]),
    timer:sleep(100),
    ok = py:state_store(signal, <<"go">>),
    {ok, <<"go">>} = py:await(Ref, 5000),
    {error, {'TimeoutError', _}} = py:call(Ctx, erlang, state_wait, [<<"signal">>, 0.05]),
    Ref2 = py:spawn_call(Ctx, erlang, state_wait, [<<"signal">>]),
    timer:sleep(50),
    ok = py:state_remove(signal),
    {ok, none} = py:await(Ref2, 5000).

%% A context whose request waits for a change still answers other calls.
waiting_context_keeps_serving(_Config) ->
    {ok, Ctx} = py_context:start_link(51, auto),
    Waiting = py:spawn_call(Ctx, erlang, state_wait, [<<"later">>, 30]),
    timer:sleep(50),
    [begin Double = I * 2, {ok, Double} = py:call(Ctx, operator, mul, [I, 2]) end
     || I <- lists:seq(1, 20)],
    ok = py:exec(Ctx, <<"__import__('erlang').state_set('later', 'now')">>),
    {ok, <<"now">>} = py:await(Waiting, 5000),
    %% An interrupt reaches a waiting request too.
    Waiting2 = py:spawn_call(Ctx, erlang, state_wait, [<<"never">>, 30]),
    timer:sleep(50),
    ok = py:interrupt(Ctx),
    {error, interrupted} = py:await(Waiting2, 5000),
    {ok, 1} = py:eval(Ctx, <<"1">>),
    ok = py_context:stop(Ctx).

bounds(_Config) ->
    ok = application:stop(erlang_python),
    ok = application:set_env(erlang_python, max_state_entries, 3),
    try
        {ok, _} = application:ensure_all_started(erlang_python),
        ok = py:state_clear(),
        [ok = py:state_store(K, 1) || K <- [a, b, c]],
        {error, full} = py:state_store(d, 1),
        {error, full} = py:state_incr(d),
        ok = py:state_store(a, 2),  % replacing is fine
        {error, {'StateFull', _}} = py:eval(<<"__import__('erlang').state_set('d', 1)">>),
        {ok, true} = py:eval(<<"issubclass(__import__('erlang').StateFull, MemoryError)">>),
        {ok, 2} = py:state_fetch(a),
        3 = length(py:state_keys())
    after
        application:stop(erlang_python),
        application:unset_env(erlang_python, max_state_entries),
        {ok, _} = application:ensure_all_started(erlang_python),
        py:state_clear()
    end,
    ok = application:set_env(erlang_python, max_state_bytes, 100),
    try
        ok = application:stop(erlang_python),
        {ok, _} = application:ensure_all_started(erlang_python),
        ok = py:state_store(small, <<"x">>),
        {error, full} = py:state_store(large, binary:copy(<<"x">>, 200)),
        {ok, <<"x">>} = py:state_fetch(small)
    after
        application:stop(erlang_python),
        application:unset_env(erlang_python, max_state_bytes),
        {ok, _} = application:ensure_all_started(erlang_python),
        py:state_clear()
    end.
