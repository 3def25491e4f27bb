%% Channels: Erlang -> Python throughput and ping latency.
-module(bench_channels).
-export([sections/0]).

sections() ->
    [{"channels", fun channels/0, default}].

%% Channels: Erlang -> Python throughput (one producer process; one consuming context
%% summing integers, then two), and the ping round trip Erlang send -> Python receive ->
%% erlang.send back.
channels() ->
    Code = <<"import erlang\n"
             "def total(channel):\n"
             "    s = 0\n"
             "    for msg in channel:\n"
             "        s += msg\n"
             "    return s\n"
             "def pong(channel):\n"
             "    for pid, msg in channel:\n"
             "        erlang.send(pid, msg)\n">>,
    Contexts = py_context_router:contexts(),
    [ok = py:exec(C, Code) || C <- Contexts],
    N = 2000000,
    [begin
         Consumers = lists:sublist(Contexts, K),
         {ok, Ch} = py_channel:new(),
         Refs = [py:spawn_call(C, '__main__', total, [Ch]) || C <- Consumers],
         T0 = erlang:monotonic_time(microsecond),
         produce(Ch, N),
         ok = py_channel:close(Ch),
         Sum = lists:sum([begin {ok, S} = py:await(R, 120000), S end || R <- Refs]),
         Us = erlang:monotonic_time(microsecond) - T0,
         Sum = N * (N + 1) div 2,
         io:format("channel, 1 Erlang producer -> ~w consuming context(s)          ~9w msgs/s~n",
                   [K, round(N / Us * 1.0e6)])
     end || K <- [1, min(2, length(Contexts))]],
    Ctx = hd(Contexts),
    {ok, Ch} = py_channel:new(),
    Ref = py:spawn_call(Ctx, '__main__', pong, [Ch]),
    [ping(Ch, I) || I <- lists:seq(1, 20000)],  % warm up
    bench_util:latency("channel ping (send -> receive() -> erlang.send)",
            fun() -> ping(Ch, x) end),
    ok = py_channel:close(Ch),
    {ok, _} = py:await(Ref, 60000).

produce(_Ch, 0) -> ok;
produce(Ch, N) -> ok = py_channel:send(Ch, N), produce(Ch, N - 1).

%% The sender's pid travels with the message: the ping may run in any process.
ping(Ch, Msg) ->
    ok = py_channel:send(Ch, {self(), Msg}),
    receive Msg -> ok end.
