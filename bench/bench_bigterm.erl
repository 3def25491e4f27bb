%% Big terms through every path that copies or walks user data: how long the operation
%% takes and the longest time it held a normal scheduler (erlang:system_monitor's
%% long_schedule, 1 ms: any report is a failure of the "never block the VM" promise).
%%
%% Terms are built beforehand and kept in persistent_term (the literal area), so that
%% building them and garbage-collecting them are not measured: only the operation is.
-module(bench_bigterm).
-export([sections/0]).

sections() ->
    [{"bigterm", fun bigterm/0, extra}].

-define(LIST_LEN, 10000000).
-define(BIN_SIZE, 200000000).
-define(DEPTH, 100000).
-define(MAP_KEYS, 1000000).
-define(KEYS, 200000).
-define(SUBSCRIBERS, 20000).
%% Read inside each operation's own process: a closure would copy the term when spawned.
-define(BIG(Key), persistent_term:get({?MODULE, Key})).

bigterm() ->
    prepare(),
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import erlang\n"
                        "def size(x):\n"
                        "    return len(x)\n"
                        "def receive_one(ch):\n"
                        "    return len(ch.receive())\n"
                        "def fetch_big():\n"
                        "    return len(erlang.bench_big_result())\n">>),
    case_("call, 10M-element list argument",
          fun() -> {ok, ?LIST_LEN} = py:call(Ctx, '__main__', size, [?BIG(list)]) end),
    case_("cast, 10M-element list argument",
          fun() -> ok = py:cast(Ctx, '__main__', size, [?BIG(list)]) end),
    case_("spawn_call + await, 10M-element list argument",
          fun() -> {ok, ?LIST_LEN} = py:await(py:spawn_call(Ctx, '__main__', size, [?BIG(list)])) end),
    case_("eval, 10M-element list in locals",
          fun() -> {ok, ?LIST_LEN} = py:eval(Ctx, <<"len(x)">>, #{x => ?BIG(list)}) end),
    case_("call, 200 MB binary argument",
          fun() -> {ok, ?BIN_SIZE} = py:call(Ctx, '__main__', size, [{bytes, ?BIG(bin)}]) end),
    case_("call, 100k-deep nested argument (refused by Python)",
          fun() -> {error, {'ValueError', _}} = py:call(Ctx, '__main__', size, [?BIG(deep)]) end),
    case_("call, map with 1M keys argument",
          fun() -> {ok, ?MAP_KEYS} = py:call(Ctx, '__main__', size, [?BIG(map)]) end),
    case_("call returning a 10M-element list",
          fun() -> {ok, [_ | _]} = py:eval(Ctx, <<"list(range(10000000))">>) end),
    ok = py:register_function(bench_big_result, fun([]) -> persistent_term:get({?MODULE, list}) end),
    case_("register_function result, 10M-element list",
          fun() -> {ok, ?LIST_LEN} = py:call(Ctx, '__main__', fetch_big, []) end),
    py:unregister_function(bench_big_result),
    case_("state_store, 10M-element list", fun() -> ok = py:state_store(bench_big, ?BIG(list)) end),
    case_("state_fetch, 10M-element list",
          fun() -> {ok, [_ | _]} = py:state_fetch(bench_big) end),
    case_("state_store, 200 MB binary", fun() -> ok = py:state_store(bench_big, ?BIG(bin)) end),
    ok = py:state_remove(bench_big),
    {ok, Ch} = py_channel:new(),
    case_("py_channel:send, 10M-element list", fun() -> ok = py_channel:send(Ch, ?BIG(list)) end),
    case_("py_channel:try_receive, 10M-element list",
          fun() -> {ok, [_ | _]} = py_channel:try_receive(Ch) end),
    ok = py_channel:send(Ch, ?BIG(list)),
    case_("channel.receive() in Python, 10M-element list",
          fun() -> {ok, ?LIST_LEN} = py:call(Ctx, '__main__', receive_one, [Ch]) end),
    ok = py_channel:close(Ch),
    [ok = py:state_store(<<"bench_key_", (integer_to_binary(I))/binary>>, I) || I <- lists:seq(1, ?KEYS)],
    case_("state_keys, 200k keys",
          fun() -> ?KEYS = length(py:state_keys()) end),
    case_("state_clear, 200k keys", fun() -> ok = py:state_clear() end),
    Parent = self(),
    Subscribers = [spawn(fun() -> ok = py:state_subscribe(bench_watched), Parent ! {subscribed, self()},
                                   receive {py_state, _, _} -> ok end,
                                   receive stop -> ok end
                         end) || _ <- lists:seq(1, ?SUBSCRIBERS)],
    [receive {subscribed, P} -> ok end || P <- Subscribers],
    case_("state_store with 20k subscribers", fun() -> ok = py:state_store(bench_watched, 1) end),
    [P ! stop || P <- Subscribers],
    ok = py:state_remove(bench_watched),
    cleanup().

prepare() ->
    Build = fun(Key, Fun) -> persistent_term:put({?MODULE, Key}, Fun()) end,
    Build(list, fun() -> lists:seq(1, ?LIST_LEN) end),
    Build(bin, fun() -> binary:copy(<<7>>, ?BIN_SIZE) end),
    Build(deep, fun() -> lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, ?DEPTH)) end),
    Build(map, fun() -> maps:from_list([{I, I} || I <- lists:seq(1, ?MAP_KEYS)]) end),
    erlang:garbage_collect(),
    ok.

cleanup() ->
    [persistent_term:erase({?MODULE, K}) || K <- [list, bin, deep, map]],
    ok.

%% Runs Fun with long_schedule monitoring and prints its time and the longest hold.
case_(Name, Fun) ->
    flush_monitor(),
    erlang:system_monitor(self(), [{long_schedule, 1}]),
    T0 = erlang:monotonic_time(microsecond),
    in_fresh_process(Fun),  % the monitoring process itself is never reported
    Us = erlang:monotonic_time(microsecond) - T0,
    timer:sleep(100),  % reports may arrive after the operation's process has ended
    erlang:system_monitor(undefined),
    Events = collect([]),
    Longest = lists:max([0 | [T || {T, _} <- Events]]),
    io:format("~-52s ~9.1f ms   longest hold ~s~n",
              [Name, Us / 1000, case Events of
                                    [] -> "< 1 ms";
                                    _ -> io_lib:format("~w ms (~w report(s), e.g. ~p)",
                                                       [Longest, length(Events), element(2, hd(Events))])
                                end]).

collect(Acc) ->
    receive
        {monitor, _Who, long_schedule, Info} ->
            Where = {proplists:get_value(in, Info), proplists:get_value(out, Info)},
            collect([{proplists:get_value(timeout, Info), Where} | Acc])
    after 0 -> lists:reverse(lists:keysort(1, Acc))
    end.

flush_monitor() ->
    receive {monitor, _, _, _} -> flush_monitor() after 0 -> ok end.

%% Each operation runs in a process of its own: the monitoring process is never reported,
%% and a big reply lands in a process that ends right after (its garbage collection is
%% not what this bench measures).
in_fresh_process(Fun) ->
    {Pid, Ref} = spawn_monitor(fun() -> Fun(), exit(done) end),
    receive {'DOWN', Ref, process, Pid, done} -> ok;
            {'DOWN', Ref, process, Pid, Other} -> error(Other)
    end.
