%% Never block the BEAM: big terms move to a dirty scheduler (and come back right), small
%% ones stay on the fast path, long Python requests give way to the schedulers.
%%
%% Behaviour only: which path a NIF took is read from the counters in
%% py_nif:engine_info() (dirty_hops); how long a scheduler was held is for bench/ to say.
-module(py_scheduler_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([small_terms_stay_on_the_scheduler/1, big_call_arguments/1, big_cast_arguments/1,
         big_spawn_call_and_task_arguments/1, big_eval_locals/1, big_state_values/1,
         big_state_cas/1, many_state_keys/1, many_subscribers/1, big_channel_messages/1,
         big_callback_results/1, stop_with_a_long_queue/1, kill_with_a_long_queue/1,
         huge_exit_reason/1, long_requests_are_lowered/1, priority_settings/1,
         answers_at_once/1, answers_at_once_fall_back_to_messages/1,
         no_answer_at_once_for_callers_sharing_a_scheduler/1,
         stop_while_a_caller_waits_in_the_nif/1, answer_wait_never/1, answer_wait_options/1]).

-define(BIG, 100000).  % well beyond the inline budget (16384 cells)

all() ->
    [small_terms_stay_on_the_scheduler, big_call_arguments, big_cast_arguments,
     big_spawn_call_and_task_arguments, big_eval_locals, big_state_values, big_state_cas,
     many_state_keys, many_subscribers, big_channel_messages, big_callback_results,
     stop_with_a_long_queue, kill_with_a_long_queue, huge_exit_reason,
     long_requests_are_lowered, priority_settings, answers_at_once,
     answers_at_once_fall_back_to_messages, no_answer_at_once_for_callers_sharing_a_scheduler,
     stop_while_a_caller_waits_in_the_nif,
     answer_wait_never, answer_wait_options].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

init_per_testcase(_Case, Config) ->
    ok = py:state_clear(),
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import erlang\n"
                        "def size(x, **kw):\n"
                        "    return len(x) + sum(len(v) for v in kw.values())\n"
                        "def total(x):\n"
                        "    return sum(x)\n"
                        "def remember_size(key, x):\n"
                        "    erlang.state_set(key, len(x))\n"
                        "async def async_size(x):\n"
                        "    return len(x)\n"
                        "def callback_size(n):\n"
                        "    return len(erlang.call('big_list', n))\n">>),
    [{ctx, Ctx} | Config].

end_per_testcase(_Case, _Config) ->
    py:state_clear().

big() -> lists:seq(1, ?BIG).

hops() -> maps:get(dirty_hops, py_nif:engine_info()).

%% Runs Fun and returns how often each dirty site was taken meanwhile.
hops_during(Fun) ->
    Before = hops(),
    Fun(),
    After = hops(),
    maps:map(fun(Site, N) -> N - maps:get(Site, Before) end, After).

small_terms_stay_on_the_scheduler(Config) ->
    Ctx = ?config(ctx, Config),
    {ok, Ch} = py_channel:new(),
    Hops = hops_during(fun() ->
        {ok, 4.0} = py:call(Ctx, math, sqrt, [16]),
        {ok, 3} = py:eval(Ctx, <<"x + 1">>, #{x => 2}),
        ok = py:state_store(small, lists:seq(1, 1000)),
        {ok, _} = py:state_fetch(small),
        [_ | _] = py:state_keys(),
        ok = py_channel:send(Ch, lists:seq(1, 1000)),
        {ok, _} = py_channel:try_receive(Ch)
    end),
    [] = [{S, N} || {S, N} <- maps:to_list(Hops), N =/= 0],
    ok = py_channel:close(Ch).

big_call_arguments(Config) ->
    Ctx = ?config(ctx, Config),
    Big = big(),
    #{call := 1} = hops_during(fun() -> {ok, ?BIG} = py:call(Ctx, '__main__', size, [Big]) end),
    Sum = lists:sum(Big),
    {ok, Sum} = py:call(Ctx, '__main__', total, [Big]),
    %% keyword arguments count too
    #{call := 1} = hops_during(fun() ->
        {ok, ?BIG + 1} = py:call(Ctx, '__main__', size, [[x]], #{extra => Big})
    end),
    %% a bad argument behind a big one is still reported as such
    {error, {badarg, module}} = py_nif:call(Ctx, make_ref(), 42, f, Big, #{}).

big_cast_arguments(Config) ->
    Ctx = ?config(ctx, Config),
    #{cast := 1} = hops_during(fun() ->
        ok = py:cast(Ctx, '__main__', remember_size, [<<"cast_size">>, big()])
    end),
    ok = epy_ct:wait_until(fun() -> py:state_fetch(cast_size) =:= {ok, ?BIG} end, 30000).

big_spawn_call_and_task_arguments(Config) ->
    Ctx = ?config(ctx, Config),
    #{call := 1} = hops_during(fun() ->
        {ok, ?BIG} = py:await(py:spawn_call(Ctx, '__main__', size, [big()]))
    end),
    #{task := 1} = hops_during(fun() ->
        {ok, ?BIG} = py_event_loop:await(py_event_loop:create_task(Ctx, '__main__', async_size, [big()]))
    end).

big_eval_locals(Config) ->
    Ctx = ?config(ctx, Config),
    #{eval := 1} = hops_during(fun() -> {ok, ?BIG} = py:eval(Ctx, <<"len(x)">>, #{x => big()}) end).

big_state_values(_Config) ->
    Big = big(),
    #{state_store := 1} = hops_during(fun() -> ok = py:state_store(big, Big) end),
    #{state_fetch := 1} = hops_during(fun() -> {ok, Big} = py:state_fetch(big) end),
    %% binaries are copied into the store: their bytes count
    Bin = binary:copy(<<"x">>, 8 * 1024 * 1024),
    #{state_store := 1} = hops_during(fun() -> ok = py:state_store(big_bin, Bin) end),
    #{state_fetch := 1} = hops_during(fun() -> {ok, Bin} = py:state_fetch(big_bin) end),
    {ok, ?BIG} = py:eval(<<"len(__import__('erlang').state_get('big'))">>).

big_state_cas(_Config) ->
    Big = big(),
    #{state_cas := 1} = hops_during(fun() -> true = py:state_cas(cas_key, none, Big) end),
    #{state_cas := 1} = hops_during(fun() -> false = py:state_cas(cas_key, none, Big) end),
    {ok, Big} = py:state_fetch(cas_key).

many_state_keys(_Config) ->
    Keys = [<<"key_", (integer_to_binary(I))/binary>> || I <- lists:seq(1, 3000)],
    [ok = py:state_store(K, 1) || K <- Keys],
    #{state_keys := 1} = hops_during(fun() ->
        Keys2 = py:state_keys(),
        true = lists:sort(Keys) =:= lists:sort(Keys2)
    end),
    #{state_clear := 1} = hops_during(fun() -> ok = py:state_clear() end),
    [] = py:state_keys().

many_subscribers(_Config) ->
    Parent = self(),
    Subscribers = [spawn_link(fun() ->
                                  ok = py:state_subscribe(watched),
                                  Parent ! {subscribed, self()},
                                  receive {py_state, <<"watched">>, Change} -> Parent ! {seen, self(), Change} end
                              end) || _ <- lists:seq(1, 3000)],
    [receive {subscribed, P} -> ok end || P <- Subscribers],
    #{state_store := 1} = hops_during(fun() -> ok = py:state_store(watched, 42) end),
    [receive {seen, P, {set, 42}} -> ok end || P <- Subscribers],
    ok.

big_channel_messages(_Config) ->
    Big = big(),
    {ok, Ch} = py_channel:new(),
    #{channel_send := 1} = hops_during(fun() -> ok = py_channel:send(Ch, Big) end),
    #{channel_receive := 1} = hops_during(fun() -> {ok, Big} = py_channel:try_receive(Ch) end),
    ok = py_channel:send(Ch, Big),
    #{channel_receive := 1} = hops_during(fun() -> {ok, Big} = py_channel:'receive'(Ch, 10000) end),
    %% a blocking sender with room to wait for
    #{channel_send := 1} = hops_during(fun() -> ok = py_channel:send(Ch, Big, 10000) end),
    {ok, Big} = py_channel:try_receive(Ch),
    %% and Python receives it whole
    ok = py_channel:send(Ch, Big),
    {ok, ?BIG} = py:eval(<<"len(ch.receive())">>, #{ch => Ch}),
    ok = py_channel:close(Ch).

big_callback_results(Config) ->
    Ctx = ?config(ctx, Config),
    ok = py:register_function(big_list, fun([N]) -> lists:seq(1, N) end),
    try
        #{callback_reply := 1} = hops_during(fun() ->
            {ok, ?BIG} = py:call(Ctx, '__main__', callback_size, [?BIG])
        end),
        #{callback_reply := 0} = hops_during(fun() ->
            {ok, 10} = py:call(Ctx, '__main__', callback_size, [10])
        end)
    after
        py:unregister_function(big_list)
    end.

%% A stop answers every queued request at once: with a long queue that moves off the
%% scheduler, and every caller still gets its answer.
stop_with_a_long_queue(_Config) ->
    {ok, Ctx} = py_context:start_link(900, auto),
    unlink(Ctx),
    ok = py:exec(Ctx, <<"import time\n"
                        "def hold():\n"
                        "    time.sleep(60)\n">>),
    Holding = py:spawn_call(Ctx, '__main__', hold, []),
    Refs = [py:spawn_call(Ctx, math, sqrt, [I]) || I <- lists:seq(1, 2000)],
    #{context_stop := 1} = hops_during(fun() -> ok = py_context:stop(Ctx) end),
    [{error, shutting_down} = py:await(R, 10000) || R <- [Holding | Refs]],
    ok.

kill_with_a_long_queue(_Config) ->
    {ok, Ctx} = py_context:start_link(901, auto),
    unlink(Ctx),
    ok = py:exec(Ctx, <<"import time\n"
                        "def hold():\n"
                        "    time.sleep(60)\n">>),
    Holding = py:spawn_call(Ctx, '__main__', hold, []),
    Refs = [py:spawn_call(Ctx, math, sqrt, [I]) || I <- lists:seq(1, 2000)],
    exit(Ctx, kill),
    [{error, {context_died, killed}} = py:await(R, 10000) || R <- [Holding | Refs]],
    ok.

%% An exit reason too big to encode on a scheduler is summarised, not copied.
huge_exit_reason(_Config) ->
    {ok, Ctx} = py_context:start_link(902, auto),
    unlink(Ctx),
    ok = py:exec(Ctx, <<"import time">>),
    Ref = py:spawn_call(Ctx, time, sleep, [60]),
    exit(Ctx, {giant, big()}),
    {error, {context_died, {exit_reason_too_large, Units}}} = py:await(Ref, 10000),
    true = Units > 16384,
    %% a small reason comes through as it is
    {ok, Ctx2} = py_context:start_link(903, auto),
    unlink(Ctx2),
    Ref2 = py:spawn_call(Ctx2, time, sleep, [60]),
    exit(Ctx2, {small, reason}),
    {error, {context_died, {small, reason}}} = py:await(Ref2, 10000).

%% A request that keeps its context busy while the BEAM's schedulers are kept waiting for
%% a core is lowered to the low priority, and raised back when it ends (where the process
%% may raise priorities: see can_raise). The pressure is made here: CPU-bound Python on
%% more contexts than there are cores, and as many busy Erlang processes.
long_requests_are_lowered(_Config) ->
    #{context_priority := #{mode := adaptive, low_nice := Low, can_raise := CanRaise,
                            lowered := Lowered0}} = py_nif:engine_info(),
    Cores = erlang:system_info(logical_processors_available),
    N = (if is_integer(Cores) -> Cores; true -> erlang:system_info(schedulers) end) + 1,
    {ok, Ctxs} = py_context_router:start_pool(busy_pool, N, auto),
    [Ctx | _] = Ctxs,
    #{os_thread_id := Tid} = py_context:info(Ctx),
    Normal = epy_ct:thread_nice(Tid),
    Busy = <<"import erlang\n"
             "def busy():\n"
             "    n = 0\n"
             "    while not erlang.state_get('stop_busy'):\n"
             "        n += 1\n"
             "    return n\n">>,
    [ok = py:exec(C, Busy) || C <- Ctxs],
    Refs = [py:spawn_call(C, '__main__', busy, []) || C <- Ctxs],
    Stop = atomics:new(1, []),
    Spinners = [spawn_link(fun() -> spin_until(Stop) end) || _ <- lists:seq(1, N)],
    ok = epy_ct:wait_until(fun() -> epy_ct:thread_nice(Tid) =:= Low end, 60000),
    atomics:put(Stop, 1, 1),
    ok = py:state_store(stop_busy, true),
    [{ok, _} = py:await(R, 60000) || R <- Refs],
    [unlink(P) || P <- Spinners],
    #{context_priority := #{lowered := Lowered1}} = py_nif:engine_info(),
    true = Lowered1 > Lowered0,
    case CanRaise of
        true -> ok = epy_ct:wait_until(fun() -> epy_ct:thread_nice(Tid) =:= Normal end, 30000);
        false -> Low = epy_ct:thread_nice(Tid)
    end,
    %% short requests are never lowered
    [{ok, 4.0} = py:call(Ctx, math, sqrt, [16]) || _ <- lists:seq(1, 1000)],
    case CanRaise of
        true -> Normal = epy_ct:thread_nice(Tid);
        false -> ok
    end,
    py_context_router:stop_pool(busy_pool).

spin_until(Stop) ->
    case atomics:get(Stop, 1) of
        0 -> spin_until(Stop);
        _ -> ok
    end.

priority_settings(_Config) ->
    #{context_priority := #{mode := adaptive, lower_after_ms := 2, watched_schedulers := W}} =
        py_nif:engine_info(),
    %% the pressure gauge found the normal and dirty CPU schedulers by their names
    W = erlang:system_info(schedulers) + erlang:system_info(dirty_cpu_schedulers),
    {ok, adaptive} = application:get_env(erlang_python, context_priority).

%% A caller alone on a context may get its answer as the NIF's result (answer_wait forces
%% the wait here; by default the context decides). Every answer is the right one, and
%% nothing is left in the mailbox.
answers_at_once(_Config) ->
    {ok, Ctx} = py_context:start_link(910, auto, #{answer_wait => 100000}),
    ok = py:exec(Ctx, <<"def add(a, b):\n    return a + b\n">>),
    At0 = at_once(Ctx),
    [{{ok, J}, J} = {py:call(Ctx, '__main__', add, [I, 1]), J} || I <- lists:seq(1, 200), J <- [I + 1]],
    [{{ok, J}, J} = {py:eval(Ctx, <<"x * 2">>, #{x => I}), J} || I <- lists:seq(1, 100), J <- [I * 2]],
    [ok = py:exec(Ctx, <<"y = 1">>) || _ <- lists:seq(1, 100)],
    [{error, {'ZeroDivisionError', _}} = py:eval(Ctx, <<"1/0">>) || _ <- lists:seq(1, 50)],
    true = at_once(Ctx) - At0 >= 200,
    %% spawn_call always answers by message
    At1 = at_once(Ctx),
    [{ok, 4.0} = py:await(py:spawn_call(Ctx, math, sqrt, [16])) || _ <- lists:seq(1, 50)],
    At1 = at_once(Ctx),
    receive Stray -> ct:fail({stray, Stray}) after 100 -> ok end,
    py_context:stop(Ctx).

%% A result too big to copy on a scheduler is sent as a message, as always.
answers_at_once_fall_back_to_messages(_Config) ->
    {ok, Ctx} = py_context:start_link(911, auto, #{answer_wait => 100000}),
    {ok, _} = py:eval(Ctx, <<"1">>),
    At0 = at_once(Ctx),
    {ok, Big} = py:eval(Ctx, <<"list(range(100000))">>),
    Big = lists:seq(0, 99999),
    At0 = at_once(Ctx),
    py_context:stop(Ctx).

%% A caller that gives up waiting in the NIF still gets its answer by message, here the
%% stop's.
stop_while_a_caller_waits_in_the_nif(_Config) ->
    {ok, Ctx} = py_context:start_link(912, auto, #{answer_wait => 50000}),
    unlink(Ctx),
    ok = py:exec(Ctx, <<"import time">>),
    Parent = self(),
    Caller = spawn_link(fun() ->
                            {ok, 1} = py:eval(Ctx, <<"1">>),  % the next call may wait in the NIF
                            Parent ! {result, py:call(Ctx, time, sleep, [30])}
                        end),
    ok = epy_ct:wait_until(fun() -> maps:get(executing, py_context:info(Ctx)) end, 30000),
    ok = py_context:stop(Ctx),
    receive {result, R} -> {error, shutting_down} = R end,
    unlink(Caller).

%% Two processes that take turns on one scheduler never wait in the NIF, even each alone
%% on its own context: a wait would hold the scheduler the other one needs.
no_answer_at_once_for_callers_sharing_a_scheduler(_Config) ->
    {ok, CtxA} = py_context:start_link(918, auto, #{answer_wait => 100000}),
    {ok, CtxB} = py_context:start_link(919, auto, #{answer_wait => 100000}),
    Parent = self(),
    Turns = fun Turns(_Ctx, _Other, 0) -> Parent ! {done, self()};
                Turns(Ctx, Other, N) ->
                    receive {turn, Peer} -> ok end,
                    {ok, 4.0} = py:call(Ctx, math, sqrt, [16]),
                    Peer ! {turn, self()},
                    Turns(Ctx, Other, N - 1)
            end,
    A = spawn_opt(fun() -> Turns(CtxA, b, 200) end, [link, {scheduler, 1}]),
    B = spawn_opt(fun() -> Turns(CtxB, a, 200) end, [link, {scheduler, 1}]),
    A ! {turn, B},
    [receive {done, P} -> ok end || P <- [A, B]],
    {0, 0} = {at_once(CtxA), at_once(CtxB)},
    %% alone, the same process does wait: the check is about sharing, not the binding
    Alone = spawn_opt(fun() ->
                          [{ok, 4.0} = py:call(CtxA, math, sqrt, [16]) || _ <- lists:seq(1, 200)],
                          Parent ! {done, self()}
                      end, [link, {scheduler, 1}]),
    receive {done, Alone} -> ok end,
    true = at_once(CtxA) > 0,
    py_context:stop(CtxA),
    py_context:stop(CtxB).

answer_wait_never(_Config) ->
    {ok, Ctx} = py_context:start_link(913, auto, #{answer_wait => never}),
    [{ok, 4.0} = py:call(Ctx, math, sqrt, [16]) || _ <- lists:seq(1, 200)],
    0 = at_once(Ctx),
    py_context:stop(Ctx).

answer_wait_options(_Config) ->
    process_flag(trap_exit, true),
    {ok, C} = py_context:start_link(914, auto, #{answer_wait => adaptive}),
    py_context:stop(C),
    {error, {badarg, options}} = py_context:start_link(915, auto, #{answer_wait => forever}),
    {error, {badarg, options}} = py_context:start_link(916, auto, #{answer_wait => -1}),
    {error, {badarg, options}} = py_context:start_link(917, auto, #{answer_wait => 5000000}),
    ok.

at_once(Ctx) -> maps:get(answered_at_once, py_context:info(Ctx)).
