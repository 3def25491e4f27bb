%% Term <-> Python conversion: every row of the table, both directions, exactly.
-module(py_convert_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([integers/1, bignums/1, floats/1, special_floats/1, booleans_and_none/1, atoms/1,
         unicode_atoms/1, binaries/1, invalid_utf8_is_bytes/1, bytes_tuple/1,
         python_text_types/1, lists_tuples_maps/1, map_keys/1, sets/1, pids/1, refs/1,
         subclasses/1, unconvertible_python/1, unconvertible_erlang/1, depth_limit/1,
         improper_list/1, colliding_keys/1, char_lists/1, large_values/1,
         atom_budget/1]).

all() ->
    [integers, bignums, floats, special_floats, booleans_and_none, atoms, unicode_atoms,
     binaries, invalid_utf8_is_bytes, bytes_tuple, python_text_types, lists_tuples_maps,
     map_keys, sets, pids, refs, subclasses, unconvertible_python, unconvertible_erlang,
     depth_limit, improper_list, colliding_keys, char_lists, large_values, atom_budget].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

%% Erlang -> Python -> Erlang.
rt(Term) ->
    {ok, Back} = py:eval(<<"v">>, #{v => Term}),
    Back.

py_type(Term) ->
    {ok, Name} = py:eval(<<"type(v).__name__">>, #{v => Term}),
    Name.

integers(_Config) ->
    [I = rt(I) || I <- [0, 1, -1, 255, 256, 1 bsl 27, -(1 bsl 27), 1 bsl 59, (1 bsl 63) - 1,
                        -(1 bsl 63)]],
    <<"int">> = py_type(42),
    {ok, 42} = py:eval(<<"40 + 2">>).

bignums(_Config) ->
    Big = [1 bsl 63, (1 bsl 64) - 1, 1 bsl 64, (1 bsl 64) + 1, -(1 bsl 63) - 1,
           -(1 bsl 200), 1 bsl 2040, 1 bsl 2048, -(1 bsl 100000)],
    [I = rt(I) || I <- Big],
    Fact100 = lists:foldl(fun erlang:'*'/2, 1, lists:seq(1, 100)),
    {ok, Fact100} = py:call(math, factorial, [100]),
    %% Python computes, Erlang checks (and the other way round).
    {ok, true} = py:eval(<<"v == 2 ** 200 * -1">>, #{v => -(1 bsl 200)}),
    {ok, P} = py:eval(<<"3 ** 5000">>),
    P = pow(3, 5000),
    {ok, <<"int">>} = py:eval(<<"type(v).__name__">>, #{v => 1 bsl 64}).

pow(_, 0) -> 1;
pow(B, E) -> B * pow(B, E - 1).

floats(_Config) ->
    [F = rt(F) || F <- [0.0, 1.5, -2.25, 1.0e308, 5.0e-324, 3.141592653589793]],
    <<"float">> = py_type(1.5),
    {ok, 0.5} = py:eval(<<"1 / 2">>).

special_floats(_Config) ->
    {ok, nan} = py:eval(<<"float('nan')">>),
    {ok, infinity} = py:eval(<<"float('inf')">>),
    {ok, neg_infinity} = py:eval(<<"float('-inf')">>),
    {ok, [1.0, infinity]} = py:eval(<<"[1.0, float('inf')]">>).

booleans_and_none(_Config) ->
    true = rt(true),
    false = rt(false),
    <<"bool">> = py_type(true),
    [<<"NoneType">> = py_type(A) || A <- [none, nil, undefined]],
    [none = rt(A) || A <- [none, nil, undefined]],
    {ok, none} = py:eval(<<"None">>),
    {ok, [true, false, none]} = py:eval(<<"[True, False, None]">>).

atoms(_Config) ->
    hello = rt(hello),
    <<"Atom">> = py_type(hello),
    {ok, true} = py:eval(<<"isinstance(v, str) and v == 'hello'">>, #{v => hello}),
    {ok, <<"erlang.Atom('hello')">>} = py:eval(<<"repr(v)">>, #{v => hello}),
    %% Atoms work as dict keys interchangeably with str.
    {ok, 1} = py:eval(<<"d['k']">>, #{d => #{k => 1}}),
    %% Plain str becomes a binary, never an atom.
    {ok, <<"hello">>} = py:eval(<<"str(v)">>, #{v => hello}),
    {ok, <<"hello">>} = py:eval(<<"'hello'">>),
    %% nan / infinity atoms stay atoms (only Python floats become them).
    nan = rt(nan),
    infinity = rt(infinity).

unicode_atoms(_Config) ->
    A = binary_to_atom(<<"héllo"/utf8>>, utf8),
    B = binary_to_atom(<<"日本語"/utf8>>, utf8),
    A = rt(A),
    B = rt(B),
    {ok, <<"日本語"/utf8>>} = py:eval(<<"str(v)">>, #{v => B}),
    {ok, 3} = py:eval(<<"len(v)">>, #{v => B}).

binaries(_Config) ->
    <<"hello">> = rt(<<"hello">>),
    <<>> = rt(<<>>),
    <<"str">> = py_type(<<"hello">>),
    U = <<"ünïcødé ✓ 𝄞"/utf8>>,
    U = rt(U),
    {ok, 11} = py:eval(<<"len(v)">>, #{v => U}),
    {ok, <<"ÜNÏCØDÉ ✓ 𝄞"/utf8>>} = py:eval(<<"v.upper()">>, #{v => U}),
    {ok, <<"a", 0, "b">>} = py:eval(<<"'a\\x00b'">>).

invalid_utf8_is_bytes(_Config) ->
    Bad = <<255, 254, 0, 1>>,
    <<"bytes">> = py_type(Bad),
    Bad = rt(Bad),
    {ok, 4} = py:eval(<<"len(v)">>, #{v => Bad}).

bytes_tuple(_Config) ->
    <<"bytes">> = py_type({bytes, <<"abc">>}),
    <<"abc">> = rt({bytes, <<"abc">>}),
    {ok, <<"abc">>} = py:eval(<<"b'abc'">>),
    {ok, <<"abc">>} = py:eval(<<"bytearray(b'abc')">>),
    {ok, 3} = py:eval(<<"len(v)">>, #{v => {bytes, <<"abc">>}}),
    %% Any other 2-tuple is a tuple.
    {bytes, 1} = rt({bytes, 1}).

python_text_types(_Config) ->
    {ok, <<"héllo"/utf8>>} = py:eval(<<"'héllo'"/utf8>>),
    {ok, <<0, 255>>} = py:eval(<<"bytes([0, 255])">>),
    {ok, <<1, 2>>} = py:eval(<<"bytearray([1, 2])">>),
    %% A lone surrogate has no UTF-8 encoding: a clear error.
    {error, {'UnicodeEncodeError', _}} = py:eval(<<"'\\ud800'">>).

lists_tuples_maps(_Config) ->
    T = [1, <<"two">>, {three, 3.0}, #{four => [4]}, [], {}, #{}],
    T = rt(T),
    <<"list">> = py_type([1]),
    <<"tuple">> = py_type({1}),
    <<"dict">> = py_type(#{}),
    Nested = #{a => [#{b => {c, [1, 2, #{d => <<"e">>}]}}]},
    Nested = rt(Nested),
    {ok, {1, 2}} = py:eval(<<"(1, 2)">>),
    {ok, #{<<"k">> := [1, 2]}} = py:eval(<<"{'k': [1, 2]}">>).

map_keys(_Config) ->
    M = #{1 => a, <<"b">> => b, c => c, {1, 2} => tuple_key, 2.5 => float_key},
    M = rt(M),
    {ok, tuple_key} = py:eval(<<"d[(1, 2)]">>, #{d => M}),
    %% A list is not hashable in Python.
    {error, {'TypeError', _}} = py:eval(<<"d">>, #{d => #{[1] => x}}).

sets(_Config) ->
    {ok, L} = py:eval(<<"{1, 2, 3}">>),
    [1, 2, 3] = lists:sort(L),
    {ok, F} = py:eval(<<"frozenset(['a'])">>),
    [<<"a">>] = F.

pids(_Config) ->
    Self = self(),
    Self = rt(Self),
    <<"Pid">> = py_type(Self),
    {ok, true} = py:eval(<<"a == b and hash(a) == hash(b)">>, #{a => Self, b => Self}),
    Other = spawn(fun() -> ok end),
    {ok, false} = py:eval(<<"a == b">>, #{a => Self, b => Other}),
    {ok, 2} = py:eval(<<"len({a, b, a})">>, #{a => Self, b => Other}),
    {ok, Repr} = py:eval(<<"repr(v)">>, #{v => Self}),
    Expected = iolist_to_binary(["erlang.Pid(", pid_to_list(Self), ")"]),
    Expected = Repr,
    [Self, Other] = rt([Self, Other]).

refs(_Config) ->
    R = make_ref(),
    R = rt(R),
    <<"Ref">> = py_type(R),
    {ok, true} = py:eval(<<"a == b and hash(a) == hash(b)">>, #{a => R, b => R}),
    {ok, false} = py:eval(<<"a == b">>, #{a => R, b => make_ref()}),
    #{R := R} = rt(#{R => R}).

subclasses(_Config) ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import enum, collections\n"
                        "class Color(enum.IntEnum):\n    RED = 1\n"
                        "Point = collections.namedtuple('Point', 'x y')\n"
                        "class Name(str):\n    pass\n">>),
    {ok, 1} = py:eval(Ctx, <<"Color.RED">>),
    {ok, {1, 2}} = py:eval(Ctx, <<"Point(1, 2)">>),
    {ok, <<"n">>} = py:eval(Ctx, <<"Name('n')">>),
    {ok, #{<<"a">> := 1}} = py:eval(Ctx, <<"collections.OrderedDict(a=1)">>),
    {ok, #{<<"a">> := []}} = py:eval(Ctx, <<"collections.defaultdict(list, a=[])">>),
    {ok, true} = py:eval(Ctx, <<"True">>).

unconvertible_python(_Config) ->
    {error, {'TypeError', <<"cannot convert object to an Erlang term">>}} =
        py:eval(<<"object()">>),
    {error, {'TypeError', <<"cannot convert complex to an Erlang term">>}} =
        py:eval(<<"1j">>),
    {error, {'TypeError', <<"cannot convert decimal.Decimal to an Erlang term">>}} =
        py:eval(<<"__import__('decimal').Decimal('1.5')">>),
    {error, {'TypeError', <<"cannot convert function to an Erlang term">>}} =
        py:eval(<<"lambda: 1">>),
    %% Inside containers too: never a silent str().
    {error, {'TypeError', _}} = py:eval(<<"[1, {2: object()}]">>).

unconvertible_erlang(_Config) ->
    {error, {'TypeError', <<"cannot convert an Erlang fun to Python">>}} =
        py:eval(<<"v">>, #{v => fun() -> ok end}),
    {error, {'TypeError', <<"cannot convert an Erlang port to Python">>}} =
        py:eval(<<"v">>, #{v => hd(erlang:ports())}),
    {error, {'TypeError', _}} = py:eval(<<"v">>, #{v => <<1:3>>}),
    %% The context is fine afterwards.
    {ok, 1} = py:eval(<<"1">>).

depth_limit(_Config) ->
    Deep = lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 900)),
    Deep = rt(Deep),
    TooDeep = lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 5000)),
    {error, {'ValueError', Msg}} = py:eval(<<"v">>, #{v => TooDeep}),
    true = binary:match(Msg, <<"deeper">>) =/= nomatch,
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"deep = []\nfor _ in range(5000):\n    deep = [deep]\n">>),
    {error, {'ValueError', _}} = py:eval(Ctx, <<"deep">>),
    {ok, 1} = py:eval(Ctx, <<"1">>).

improper_list(_Config) ->
    {error, {'TypeError', <<"cannot convert an improper Erlang list">>}} =
        py:eval(<<"v">>, #{v => [1 | 2]}).

colliding_keys(_Config) ->
    {error, {'ValueError', _}} = py:eval(<<"{'a': 1, b'a': 2}">>).

char_lists(_Config) ->
    %% Erlang strings are lists of integers; use binaries for text.
    {ok, [104, 105]} = py:eval(<<"v">>, #{v => "hi"}),
    {ok, <<"list">>} = py:eval(<<"type(v).__name__">>, #{v => "hi"}).

large_values(_Config) ->
    Bin = binary:copy(<<"0123456789">>, 1000000),
    Bin = rt(Bin),
    {ok, 10000000} = py:eval(<<"len(v)">>, #{v => Bin}),
    List = lists:seq(1, 100000),
    List = rt(List),
    Map = maps:from_list([{I, I * I} || I <- lists:seq(1, 10000)]),
    Map = rt(Map).

atom_budget(_Config) ->
    %% Existing atoms convert freely; a new name is only minted within the budget.
    {ok, ok} = py:eval(<<"__import__('erlang').Atom('ok')">>),
    Name = <<"epy_test_new_atom_", (integer_to_binary(erlang:unique_integer([positive])))/binary>>,
    {ok, Atom} = py:eval(<<"__import__('erlang').Atom(n)">>, #{n => Name}),
    Name = atom_to_binary(Atom, utf8).
