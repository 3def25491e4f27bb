%% asyncio tasks from Erlang and timer precision of the context loops.
-module(bench_asyncio).
-export([sections/0]).

sections() ->
    [{"asyncio", fun asyncio_tasks/0, default}].

%% asyncio: py_event_loop:create_task + await round trips (a coroutine that never waits,
%% and one that waits one turn of the loop), tasks per second from 1 and 50 callers (each
%% keeping 100 tasks in flight), and how late asyncio.sleep(0.001) wakes.
asyncio_tasks() ->
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import asyncio, time\n"
                        "async def ready():\n"
                        "    return 1\n"
                        "async def one_turn():\n"
                        "    await asyncio.sleep(0)\n"
                        "    return 1\n"
                        "async def sleep_error(n, delay):\n"
                        "    errors = []\n"
                        "    for _ in range(n):\n"
                        "        t = time.perf_counter()\n"
                        "        await asyncio.sleep(delay)\n"
                        "        errors.append(time.perf_counter() - t - delay)\n"
                        "    errors.sort()\n"
                        "    return [sum(errors) / n * 1e6, errors[n * 99 // 100] * 1e6]\n">>),
    Task = fun(F) -> fun() -> {ok, 1} = py_event_loop:await(py_event_loop:create_task(Ctx, '__main__', F, [])), ok end end,
    [ok = (Task(F))() || F <- [ready, one_turn], _ <- lists:seq(1, 20000)],
    bench_util:latency("py_event_loop:create_task + await (returns at once)", Task(ready)),
    bench_util:latency("py_event_loop:create_task + await (one loop turn)", Task(one_turn)),
    [task_throughput(Ctx, Callers) || Callers <- [1, 50]],
    {ok, [Mean, P99]} = py_event_loop:run(Ctx, '__main__', sleep_error, [2000, 0.001], #{}, 60000),
    io:format("asyncio.sleep(0.001) wakes late by                     mean ~6.1f us   p99 ~7.1f us~n",
              [Mean, P99]).

task_throughput(Ctx, Callers) ->
    Total = 200000,
    Each = Total div Callers,
    Window = 100,
    Parent = self(),
    T0 = erlang:monotonic_time(microsecond),
    Pids = [spawn_link(fun() ->
                               tasks_in_windows(Ctx, Each, Window),
                               Parent ! {done, self()}
                       end) || _ <- lists:seq(1, Callers)],
    [receive {done, P} -> ok end || P <- Pids],
    Us = erlang:monotonic_time(microsecond) - T0,
    io:format("asyncio tasks (one loop turn each), ~2w callers, 100 in flight each ~9w tasks/s~n",
              [Callers, round(Each * Callers / Us * 1.0e6)]).

tasks_in_windows(_Ctx, Left, _Window) when Left =< 0 ->
    ok;
tasks_in_windows(Ctx, Left, Window) ->
    N = min(Left, Window),
    Refs = [py_event_loop:create_task(Ctx, '__main__', one_turn, []) || _ <- lists:seq(1, N)],
    [{ok, 1} = py_event_loop:await(R, 60000) || R <- Refs],
    tasks_in_windows(Ctx, Left - N, Window).
