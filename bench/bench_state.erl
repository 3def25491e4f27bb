%% The shared state from Python and from Erlang.
-module(bench_state).
-export([sections/0]).

sections() ->
    [{"state", fun shared_state/0, default}].

%% The shared state: state_get / state_set per second from Python (one context, then all
%% contexts at once) and from Erlang (one process, then 8).
shared_state() ->
    ok = py:state_store(<<"bench_key">>, #{<<"config">> => [1, 2, 3]}),
    Loop = fun(Op) ->
                   iolist_to_binary(
                     ["import time\nfrom erlang import state_get, state_set\n"
                      "def run(n):\n"
                      "    v = {'config': [1, 2, 3]}\n"
                      "    t = time.perf_counter()\n"
                      "    for _ in range(n):\n        ", Op, "\n"
                      "    return n / (time.perf_counter() - t)\n"])
           end,
    Contexts = py_context_router:contexts(),
    [begin
         [ok = py:exec(C, Loop(Code)) || C <- Contexts],
         {ok, One} = py:call(hd(Contexts), '__main__', run, [1000000], #{}, 60000),
         Refs = [py:spawn_call(C, '__main__', run, [500000]) || C <- Contexts],
         All = lists:sum([begin {ok, R} = py:await(Ref, 60000), R end || Ref <- Refs]),
         io:format("Python ~-30s one context ~11.1f ops/s, all ~w contexts ~11.1f ops/s~n",
                   [Name, One, length(Contexts), All])
     end || {Name, Code} <- [{"state_get(key)", "state_get('bench_key')"},
                             {"state_set(key, small dict)", "state_set('bench_key', v)"}]],
    N = 1000000,
    [begin
         {Us, _} = timer:tc(fun() -> erlang_ops(Op, N) end),
         Parent = self(),
         {UsPar, _} = timer:tc(fun() ->
                                       Pids = [spawn_link(fun() -> erlang_ops(Op, N div 8), Parent ! {done, self()} end)
                                               || _ <- lists:seq(1, 8)],
                                       [receive {done, P} -> ok end || P <- Pids]
                               end),
         io:format("Erlang ~-30s one process ~11.1f ops/s, 8 processes ~11.1f ops/s~n",
                   [Name, N / (Us / 1.0e6), N / (UsPar / 1.0e6)])
     end || {Name, Op} <- [{"py:state_fetch(Key)", fetch}, {"py:state_store(Key, map)", store},
                           {"py:state_incr(Key)", incr}]],
    py:state_clear().

erlang_ops(_Op, 0) -> ok;
erlang_ops(fetch, N) -> {ok, _} = py:state_fetch(<<"bench_key">>), erlang_ops(fetch, N - 1);
erlang_ops(store, N) -> ok = py:state_store(<<"bench_key">>, #{<<"config">> => [1, 2, 3]}), erlang_ops(store, N - 1);
erlang_ops(incr, N) -> _ = py:state_incr(<<"bench_counter">>), erlang_ops(incr, N - 1).
