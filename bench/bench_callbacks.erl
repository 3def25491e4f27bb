%% Python calling Erlang: erlang.call round trips, erlang.send throughput.
-module(bench_callbacks).
-export([sections/0]).

sections() ->
    [{"callbacks", fun python_calls_erlang/0, default}].

%% Python -> Erlang: erlang.call round trip (Python -> Erlang fun -> back to Python) and
%% erlang.send throughput to one Erlang process.
python_calls_erlang() ->
    ok = py:register_function(bench_add, fun([A, B]) -> A + B end),
    Ctx = py:context(1),
    ok = py:exec(Ctx, <<"import time, erlang\n"
                        "def call_latency(n):\n"
                        "    samples = []\n"
                        "    for i in range(n):\n"
                        "        t = time.perf_counter()\n"
                        "        erlang.bench_add(i, 1)\n"
                        "        samples.append(time.perf_counter() - t)\n"
                        "    samples.sort()\n"
                        "    return [samples[n // 2] * 1e6, samples[n * 99 // 100] * 1e6]\n"
                        "def send_many(pid, n):\n"
                        "    t = time.perf_counter()\n"
                        "    for i in range(n):\n"
                        "        erlang.send(pid, i)\n"
                        "    return time.perf_counter() - t\n">>),
    {ok, _} = py:call(Ctx, '__main__', call_latency, [2000], #{}, 60000),
    {ok, [P50, P99]} = py:call(Ctx, '__main__', call_latency, [20000], #{}, 60000),
    io:format("erlang.call round trip (Python -> Erlang fun -> Python)  p50 ~6.2f us   p99 ~7.2f us~n",
              [P50, P99]),
    N = 1000000,
    Parent = self(),
    Counter = spawn_link(fun() -> count_messages(N, Parent) end),
    T0 = erlang:monotonic_time(microsecond),
    {ok, _} = py:call(Ctx, '__main__', send_many, [Counter, N], #{}, 120000),
    receive counted -> ok end,
    Us = erlang:monotonic_time(microsecond) - T0,
    io:format("erlang.send from Python to one Erlang process               ~9w msgs/s~n",
              [round(N / (Us / 1.0e6))]),
    py:unregister_function(bench_add).

count_messages(0, Parent) -> Parent ! counted;
count_messages(N, Parent) -> receive _ -> count_messages(N - 1, Parent) end.
