%% asyncio from Erlang and inside contexts: py_event_loop's run/create_task/await/
%% spawn_task, the context's own loop (tasks that outlive their call), erlang.sleep that
%% keeps the context serving, sockets between asyncio and gen_tcp, refusals.
-module(py_event_loop_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1, init_per_group/2,
         end_per_group/2]).
-export([seed_examples/1, routed_without_a_context/1, plain_functions_are_called/1,
         keyword_arguments/1, errors_are_delivered/1, bad_input/1,
         await_timeout_cancels_the_task/1, tasks_outlive_their_call/1,
         ten_thousand_tasks_each_to_its_caller/1, erlang_sleep_keeps_the_context_serving/1,
         tcp_echo_python_client_erlang_server/1, tcp_echo_erlang_client_python_server/1,
         signal_and_subprocess_refusals/1, stop_answers_pending_tasks/1,
         idle_loop_uses_no_cpu/1, nested_requests_run_their_own_loops/1,
         the_loop_runs_while_a_request_waits/1, state_changes_wake_tasks/1]).

-define(HELPERS, <<"
import asyncio
import erlang


async def echo_later(value, delay=0.01):
    await asyncio.sleep(delay)
    return value


async def add_later(a, b, *, scale=1):
    await asyncio.sleep(0.01)
    return (a + b) * scale


def double(x):
    return x * 2


async def fails_later(message):
    await asyncio.sleep(0.01)
    raise ValueError(message)


async def cancels_itself():
    asyncio.current_task().cancel()
    await asyncio.sleep(1)


async def waits_for_cancel(key):
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        erlang.state_set(key, 'cancelled')
        raise


async def await_change(pid, key):
    waiting = erlang.state_changed(key)
    erlang.send(pid, 'watching')
    return await waiting


async def notify_later(pid, message, delay):
    await asyncio.sleep(delay)
    erlang.send(pid, message)


def start_background_notifier(pid, message, delay):
    # Returns at once; the task runs on in the context's own loop.
    erlang.spawn_task(notify_later(pid, message, delay))
    return 'submitted'


async def spawns_a_grandchild(pid):
    erlang.spawn_task(notify_later(pid, 'grandchild', 0.1))
    return 'parent done'


def sleep_sync(seconds):
    erlang.sleep(seconds)
    return 'slept'


async def tcp_client(port, lines):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    replies = []
    for i in range(lines):
        writer.write(b'line %d\\n' % i)
        await writer.drain()
        replies.append(await reader.readline())
    writer.close()
    await writer.wait_closed()
    return replies


async def tcp_server(pid):
    async def handle(reader, writer):
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
        writer.close()
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    erlang.send(pid, ('port', server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()
">>).

all() ->
    [{group, subinterp}, {group, multi_executor}, routed_without_a_context,
     ten_thousand_tasks_each_to_its_caller, idle_loop_uses_no_cpu].

groups() ->
    Cases = [seed_examples, plain_functions_are_called, keyword_arguments, errors_are_delivered,
             bad_input, await_timeout_cancels_the_task, tasks_outlive_their_call,
             erlang_sleep_keeps_the_context_serving, tcp_echo_python_client_erlang_server,
             tcp_echo_erlang_client_python_server, signal_and_subprocess_refusals,
             stop_answers_pending_tasks, nested_requests_run_their_own_loops,
             the_loop_runs_while_a_request_waits, state_changes_wake_tasks],
    [{subinterp, [], Cases}, {multi_executor, [], Cases}].

init_per_suite(Config) ->
    epy_ct:start_with_python_module(Config, el_helpers, ?HELPERS).

end_per_suite(_Config) ->
    epy_ct:stop().

init_per_group(Mode, Config) ->
    epy_ct:mode_contexts(Mode, [700], Config).

end_per_group(_Mode, Config) ->
    epy_ct:stop_contexts(Config).

ctx(Config) ->
    case ?config(ctxs, Config) of
        undefined -> py:context(1);
        [Ctx] -> Ctx
    end.

%%% ------------------------------------------------------------------------------------

%% The seed's "Async Task API (Erlang Side)", as written.
seed_examples(Config) ->
    Ctx = ctx(Config),
    {ok, <<"a">>} = py_event_loop:run(Ctx, el_helpers, echo_later, [<<"a">>]),
    Ref = py_event_loop:create_task(Ctx, el_helpers, echo_later, [<<"b">>]),
    {ok, <<"b">>} = py_event_loop:await(Ref, 5000),
    ok = py_event_loop:spawn_task(Ctx, el_helpers, notify_later, [self(), fired, 0.01]),
    receive fired -> ok after 5000 -> ct:fail(spawned_task_never_ran) end,
    Ref2 = py_event_loop:create_task(Ctx, el_helpers, echo_later, [<<"c">>]),
    <<"c">> = receive
                  {async_result, Ref2, {ok, Result}} -> Result;
                  {async_result, Ref2, {error, Reason}} -> ct:fail(Reason)
              after 5000 -> ct:fail(no_result)
              end,
    %% The Python side of the seed: erlang.run with standard asyncio.
    ok = py:exec(Ctx, <<"import erlang, asyncio\n"
                        "async def handler():\n"
                        "    await asyncio.sleep(0.1)\n"
                        "    return 'done'\n"
                        "result = erlang.run(handler())\n">>),
    {ok, <<"done">>} = py:eval(Ctx, <<"result">>).

%% Without a context, tasks are routed like py:call: the default pool, or the pool
%% registered for the module.
routed_without_a_context(Config) ->
    {ok, 5} = py_event_loop:run(el_helpers, echo_later, [5]),
    {ok, 6} = py_event_loop:await(py_event_loop:create_task(el_helpers, echo_later, [6])),
    ok = py_event_loop:spawn_task(el_helpers, notify_later, [self(), routed, 0]),
    receive routed -> ok after 5000 -> ct:fail(routed_spawn_never_ran) end,
    {ok, _} = py_context_router:start_pool(el_pool, 1, worker, #{paths => ?config(paths, Config)}),
    ok = py:register_pool(el_pool, el_helpers),
    try
        [PoolCtx] = py_context_router:contexts(el_pool),
        ok = py:exec(PoolCtx, <<"import el_helpers\nel_helpers.MARK = 'pool'">>),
        {ok, <<"pool">>} = py_event_loop:run(el_helpers, echo_later, [<<"pool">>]),
        %% Proof that it ran there: a task reads what only that context has.
        {ok, <<"pool">>} = py_event_loop:run(el_helpers, 'MARK.__str__', [])
    after
        py:unregister_pool(el_helpers),
        py_context_router:stop_pool(el_pool)
    end.

plain_functions_are_called(Config) ->
    Ctx = ctx(Config),
    {ok, 42} = py_event_loop:run(Ctx, el_helpers, double, [21]),
    {ok, 8} = py_event_loop:run(Ctx, operator, add, [3, 5]).

keyword_arguments(Config) ->
    Ctx = ctx(Config),
    {ok, 30} = py_event_loop:run(Ctx, el_helpers, add_later, [1, 2], #{scale => 10}),
    {ok, 3} = py_event_loop:run(Ctx, el_helpers, add_later, [1, 2], #{}, 5000).

errors_are_delivered(Config) ->
    Ctx = ctx(Config),
    {error, {'ModuleNotFoundError', _}} = py_event_loop:run(Ctx, no_such_module, f, []),
    {error, {'AttributeError', _}} = py_event_loop:run(Ctx, el_helpers, no_such_function, []),
    {error, {'TypeError', _}} = py_event_loop:run(Ctx, el_helpers, echo_later, []),
    {error, {'ValueError', <<"late failure">>}} =
        py_event_loop:run(Ctx, el_helpers, fails_later, [<<"late failure">>]),
    {error, cancelled} = py_event_loop:run(Ctx, el_helpers, cancels_itself, []),
    %% The same through the message.
    Ref = py_event_loop:create_task(Ctx, el_helpers, fails_later, [<<"m">>]),
    receive {async_result, Ref, {error, {'ValueError', <<"m">>}}} -> ok
    after 5000 -> ct:fail(no_error_message)
    end,
    %% The context is fine afterwards.
    {ok, 1} = py_event_loop:run(Ctx, el_helpers, echo_later, [1]).

bad_input(Config) ->
    Ctx = ctx(Config),
    {error, {badarg, module}} = py_event_loop:run(Ctx, 42, f, []),
    {error, {badarg, function}} = py_event_loop:run(Ctx, el_helpers, "f", []),
    {error, {badarg, args}} = py_event_loop:run(Ctx, el_helpers, double, not_a_list),
    {error, {badarg, args}} = py_event_loop:run(Ctx, el_helpers, double, [1 | 2]),
    {error, {badarg, kwargs}} = py_event_loop:run(Ctx, el_helpers, double, [1], [{a, 1}]),
    Ref = py_event_loop:create_task(Ctx, el_helpers, double, not_a_list),
    {error, {badarg, args}} = py_event_loop:await(Ref, 1000),
    {error, {badarg, not_a_ref}} = py_event_loop:await(not_a_ref),
    {error, {badarg, -1}} = py_event_loop:await(make_ref(), -1),
    {error, {badarg, soon}} = py_event_loop:run(Ctx, el_helpers, double, [1], #{}, soon),
    {error, {badarg, module}} = py_event_loop:spawn_task(Ctx, 42, f, []),
    Dead = spawn(fun() -> ok end),
    {error, {no_context, Dead}} = py_event_loop:run(Dead, el_helpers, double, [1]),
    {error, {no_context, Dead}} = py_event_loop:spawn_task(Dead, el_helpers, double, [1]),
    {error, {no_pool, no_such_pool}} = py_event_loop:run(no_such_pool, el_helpers, double, [1]),
    {error, {no_context, "x"}} = py_event_loop:run("x", el_helpers, double, [1]),
    %% A value Python cannot send back is an error of its own, not a crash.
    {error, {'TypeError', _}} = py_event_loop:run(Ctx, builtins, object, []).

%% A caller that stops waiting cancels the task in Python, and no late result lingers.
await_timeout_cancels_the_task(Config) ->
    Ctx = ctx(Config),
    Key = iolist_to_binary(io_lib:format("el-cancel-~p", [?config(mode, Config)])),
    py:state_remove(Key),
    Ref = py_event_loop:create_task(Ctx, el_helpers, waits_for_cancel, [Key]),
    {error, timeout} = py_event_loop:await(Ref, 100),
    ok = epy_ct:wait_until(fun() -> py:state_fetch(Key) =:= {ok, <<"cancelled">>} end, 5000),
    receive {async_result, Ref, Late} -> ct:fail({late_result, Late}) after 200 -> ok end,
    {error, timeout} = py_event_loop:run(Ctx, el_helpers, echo_later, [x, 10], #{}, 50),
    {ok, 7} = py_event_loop:run(Ctx, el_helpers, echo_later, [7]).

tasks_outlive_their_call(Config) ->
    Ctx = ctx(Config),
    %% erlang.spawn_task from a synchronous call: the call returns first.
    {ok, <<"submitted">>} = py:call(Ctx, el_helpers, start_background_notifier,
                                    [self(), from_background, 0.1]),
    receive from_background -> ok after 5000 -> ct:fail(background_task_lost) end,
    %% A task that starts another and ends before it.
    {ok, <<"parent done">>} = py_event_loop:run(Ctx, el_helpers, spawns_a_grandchild, [self()]),
    receive <<"grandchild">> -> ok after 5000 -> ct:fail(grandchild_lost) end,
    %% Tasks run on while the context serves other calls.
    {ok, _} = py:call(Ctx, el_helpers, start_background_notifier, [self(), during_calls, 0.05]),
    [{ok, 2} = py:call(Ctx, el_helpers, double, [1]) || _ <- lists:seq(1, 100)],
    receive during_calls -> ok after 5000 -> ct:fail(task_starved_by_calls) end.

%% 10,000 tasks at once on one context, from 100 callers: each result reaches its own.
ten_thousand_tasks_each_to_its_caller(_Config) ->
    {ok, Ctx} = py_context:start_link(701, auto),
    Parent = self(),
    Callers = [spawn_link(fun() ->
                   Refs = [{I, py_event_loop:create_task(Ctx, el_helpers, echo_later,
                                                         [{C, I}, 0.2])}
                           || I <- lists:seq(1, 100)],
                   Results = [{I, py_event_loop:await(R, 60000)} || {I, R} <- Refs],
                   Parent ! {self(), C, Results}
               end) || C <- lists:seq(1, 100)],
    Collected = [receive {Pid, C, Results} -> {C, Results} after 120000 -> ct:fail(timeout) end
                 || {C, Pid} <- lists:zip(lists:seq(1, 100), Callers)],
    [[{I, {ok, {C, I}}} = R || {I, _} = R <- Results] || {C, Results} <- Collected],
    10000 = length(lists:append([Rs || {_, Rs} <- Collected])),
    py_context:stop(Ctx).

%% erlang.sleep in synchronous code: the context keeps serving other calls meanwhile.
erlang_sleep_keeps_the_context_serving(Config) ->
    Ctx = ctx(Config),
    Sleeper = py:spawn_call(Ctx, el_helpers, sleep_sync, [1.0]),
    timer:sleep(50),
    [{ok, 4} = py:call(Ctx, el_helpers, double, [2]) || _ <- lists:seq(1, 50)],
    {ok, 6} = py_event_loop:run(Ctx, el_helpers, echo_later, [6]),
    %% All of that was served while the sleeper still slept.
    receive {py_result, Sleeper, Early} -> ct:fail({sleeper_answered_first, Early}) after 0 -> ok end,
    {ok, <<"slept">>} = py:await(Sleeper, 5000).

tcp_echo_python_client_erlang_server(Config) ->
    Ctx = ctx(Config),
    {ok, Listen} = gen_tcp:listen(0, [binary, {ip, loopback}, {packet, line}, {active, false},
                                      {reuseaddr, true}]),
    {ok, Port} = inet:port(Listen),
    Server = spawn_link(fun() ->
                            {ok, Sock} = gen_tcp:accept(Listen),
                            echo_upper(Sock)
                        end),
    {ok, Replies} = py_event_loop:run(Ctx, el_helpers, tcp_client, [Port, 100]),
    Replies = [iolist_to_binary(["LINE ", integer_to_list(I), "\n"]) || I <- lists:seq(0, 99)],
    unlink(Server),
    gen_tcp:close(Listen).

echo_upper(Sock) ->
    case gen_tcp:recv(Sock, 0, 10000) of
        {ok, Line} -> ok = gen_tcp:send(Sock, string:uppercase(Line)), echo_upper(Sock);
        {error, _} -> gen_tcp:close(Sock)
    end.

tcp_echo_erlang_client_python_server(Config) ->
    Ctx = ctx(Config),
    ok = py_event_loop:spawn_task(Ctx, el_helpers, tcp_server, [self()]),
    Port = receive {<<"port">>, P} -> P after 5000 -> ct:fail(no_port) end,
    {ok, Sock} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {packet, line}, {active, false}]),
    [begin
         Line = iolist_to_binary(["hello ", integer_to_list(I), "\n"]),
         ok = gen_tcp:send(Sock, Line),
         {ok, Reply} = gen_tcp:recv(Sock, 0, 5000),
         Reply = string:uppercase(Line)
     end || I <- lists:seq(1, 100)],
    ok = gen_tcp:close(Sock).

signal_and_subprocess_refusals(Config) ->
    Ctx = ctx(Config),
    Message = <<"Signal handlers not supported: handle signals in Erlang (os:set_signal/2)">>,
    ok = py:exec(Ctx, <<"import signal, asyncio\n"
                        "loop = asyncio.get_event_loop()\n">>),
    {error, {'NotImplementedError', Message}} =
        py:exec(Ctx, <<"loop.add_signal_handler(signal.SIGTERM, print)">>),
    {error, {'NotImplementedError', Message}} =
        py:exec(Ctx, <<"loop.remove_signal_handler(signal.SIGTERM)">>),
    {error, {'NotImplementedError', Sub}} =
        py:exec(Ctx, <<"import erlang\n"
                       "async def spawn():\n"
                       "    await asyncio.create_subprocess_exec('true')\n"
                       "erlang.run(spawn())\n">>),
    {match, _} = re:run(Sub, "Erlang port").

%% A context that stops answers the tasks still running; their callers are not left waiting.
stop_answers_pending_tasks(Config) ->
    {ok, Ctx} = py_context:start_link(702, ?config(mode, Config)),
    Refs = [py_event_loop:create_task(Ctx, el_helpers, echo_later, [I, 30]) || I <- lists:seq(1, 10)],
    {ok, 2} = py_event_loop:run(Ctx, el_helpers, double, [1]),
    py_context:stop(Ctx),
    [{error, _} = py_event_loop:await(R, 5000) || R <- Refs],
    ok.

%% An idle context with a loop (tasks sleeping in it) sleeps in the kernel: no polling.
idle_loop_uses_no_cpu(_Config) ->
    {ok, Ctx} = py_context:start_link(703, auto),
    ok = py_event_loop:spawn_task(Ctx, el_helpers, echo_later, [x, 60]),
    {ok, 1} = py_event_loop:run(Ctx, el_helpers, echo_later, [1]),
    #{os_thread_id := Tid} = py_context:info(Ctx),
    Before = cpu_ticks(Tid),
    timer:sleep(1000),
    Used = cpu_ticks(Tid) - Before,
    py_context:stop(Ctx),
    ct:log("context thread used ~p clock ticks in 1 s idle", [Used]),
    true = Used =< 3.  % a polling loop would use ~100 (one per 10 ms)

cpu_ticks(Tid) ->
    {ok, Stat} = file:read_file(io_lib:format("/proc/self/task/~p/stat", [Tid])),
    [_, AfterComm] = binary:split(Stat, <<") ">>),
    Fields = binary:split(AfterComm, <<" ">>, [global]),
    %% utime and stime: fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
    binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)).

%% While one request waits inside erlang.run, another on the same context runs its own
%% erlang.run (the first one's loop is not "running" for it).
nested_requests_run_their_own_loops(Config) ->
    Ctx = ctx(Config),
    ok = py:exec(Ctx, <<"import erlang, asyncio\n"
                        "async def slow():\n"
                        "    await asyncio.sleep(0.5)\n"
                        "    return 'outer'\n"
                        "async def quick():\n"
                        "    return 'inner'\n"
                        "def run_slow():\n"
                        "    return erlang.run(slow())\n"
                        "def no_running_loop():\n"
                        "    try:\n"
                        "        asyncio.get_running_loop()\n"
                        "        return False\n"
                        "    except RuntimeError:\n"
                        "        return True\n">>),
    Outer = py:spawn_call(Ctx, '__main__', run_slow, []),
    timer:sleep(100),
    %% Served while run_slow waits in its loop, and before it is done.
    {ok, <<"inner">>} = py:eval(Ctx, <<"erlang.run(quick())">>),
    {ok, true} = py:call(Ctx, '__main__', no_running_loop, []),
    receive {py_result, Outer, Early} -> ct:fail({outer_answered_first, Early}) after 0 -> ok end,
    {ok, <<"outer">>} = py:await(Outer, 5000).

%% The context's own loop keeps running while a synchronous request waits in erlang.run
%% (or any wait that serves the context).
the_loop_runs_while_a_request_waits(Config) ->
    Ctx = ctx(Config),
    ok = py_event_loop:spawn_task(Ctx, el_helpers, notify_later, [self(), tick, 0.1]),
    Waiter = py:spawn_call(Ctx, el_helpers, sleep_sync, [1.0]),
    receive tick -> ok after 5000 -> ct:fail(tick_lost) end,
    %% The tick came while the synchronous sleeper was still sleeping.
    receive {py_result, Waiter, Early} -> ct:fail({loop_stalled_during_wait, Early}) after 0 -> ok end,
    {ok, <<"slept">>} = py:await(Waiter, 5000).

%% await erlang.state_changed(key) in a task wakes for a change made in Erlang.
state_changes_wake_tasks(Config) ->
    Ctx = ctx(Config),
    Key = iolist_to_binary(io_lib:format("el-change-~p", [?config(mode, Config)])),
    Ref = py_event_loop:create_task(Ctx, el_helpers, await_change, [self(), Key]),
    receive <<"watching">> -> ok after 5000 -> ct:fail(not_watching) end,
    ok = py:state_store(Key, #{<<"from">> => erlang}),
    {ok, #{<<"from">> := erlang}} = py_event_loop:await(Ref, 5000),
    py:state_remove(Key).
