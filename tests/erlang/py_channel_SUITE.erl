%% Channels: Erlang producers and Python consumers (and back), blocking, timed, async
%% and Erlang receivers, close, backpressure, exactly-once delivery, lifetime.
-module(py_channel_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1, init_per_group/2,
         end_per_group/2]).
-export([issue_example/1, seed_example/1, blocking_receive_keeps_contexts_serving/1,
         timeouts/1, try_receive_on_empty/1, close_wakes_every_receiver/1,
         backpressure/1, many_receivers_exactly_once/1, hundred_thousand_pipeline/1,
         python_made_channel_used_from_erlang/1, python_to_erlang_direction/1,
         ping_pong/1, dead_erlang_receiver_hands_on/1, mixed_receivers_exactly_once/1,
         bad_input/1, unreferenced_channels_are_freed/1, async_receive_in_tasks/1,
         channels_as_values/1]).

-define(HELPERS, <<"
import threading
import erlang
from erlang.channel import Channel, ChannelClosed


def processor(channel):
    total = 0
    for msg in channel:          # ends when the channel is closed and drained
        total += handle(msg)
    return total


def handle(msg):
    if isinstance(msg, tuple):
        return msg[1]
    return msg


def receive_one(channel, timeout=None):
    return channel.receive(timeout=timeout)


def receive_or_closed(channel):
    try:
        channel.receive()
        return 'message'
    except ChannelClosed:
        return 'closed'


def receive_in_thread(channel):
    result = []
    def run():
        result.append(receive_or_closed(channel))
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return result[0]


async def receive_async(channel):
    try:
        return await channel.async_receive()
    except ChannelClosed:
        return 'closed'


async def collect_async(channel):
    return [msg async for msg in channel]


def collect(channel):
    return list(channel)


def try_receive_both(channel):
    marker = object()
    return [channel.try_receive(), channel.try_receive(default=marker) is marker]


def make_channel(items):
    ch = Channel()
    for item in items:
        ch.send(item)
    return ch


def send_all(channel, items):
    for item in items:
        channel.send(item)
    return len(items)


def echo(channel, pid, count):
    for _ in range(count):
        erlang.send(pid, channel.receive())
    return 'echoed'


def send_channel_to(pid, items):
    erlang.send(pid, ('channel', make_channel(items)))
    return 'sent'
">>).

all() ->
    [{group, subinterp}, {group, multi_executor}, many_receivers_exactly_once,
     hundred_thousand_pipeline, mixed_receivers_exactly_once, dead_erlang_receiver_hands_on,
     unreferenced_channels_are_freed, bad_input].

groups() ->
    Cases = [issue_example, seed_example, blocking_receive_keeps_contexts_serving, timeouts,
             try_receive_on_empty, close_wakes_every_receiver, backpressure,
             python_made_channel_used_from_erlang, python_to_erlang_direction, ping_pong,
             async_receive_in_tasks, channels_as_values],
    [{subinterp, [], Cases}, {multi_executor, [], Cases}].

init_per_suite(Config) ->
    epy_ct:start_with_python_module(Config, pipeline, ?HELPERS).

end_per_suite(_Config) ->
    epy_ct:stop().

init_per_group(Mode, Config) ->
    epy_ct:mode_contexts(Mode, [801, 802], Config).

end_per_group(_Mode, Config) ->
    epy_ct:stop_contexts(Config).

ctx(Config) -> hd(?config(ctxs, Config)).
other_ctx(Config) -> lists:last(?config(ctxs, Config)).

%%% ------------------------------------------------------------------------------------

issue_example(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    ok = py_channel:send(Ch, {job, 1, <<"payload">>}),
    Ref = py:spawn_call(Ctx, pipeline, processor, [Ch]),
    ok = py_channel:send(Ch, {job, 2, <<"payload">>}),
    ok = py_channel:close(Ch),
    {ok, 3} = py:await(Ref, 5000).

%% The seed's Python side: receive, receive with timeout, try_receive (None when empty).
seed_example(Config) ->
    Ctx = ctx(Config),
    ok = py:exec(Ctx, <<"from erlang.channel import Channel\n"
                        "def seed(channel):\n"
                        "    msg = channel.receive()\n"
                        "    other = channel.try_receive()\n"
                        "    return [msg, other]\n">>),
    {ok, Ch} = py_channel:new(),
    ok = py_channel:send(Ch, hello),
    {ok, [hello, none]} = py:call(Ctx, '__main__', seed, [Ch]).

%% A context blocked in channel.receive() keeps serving its mailbox; other contexts run on.
blocking_receive_keeps_contexts_serving(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    Waiting = py:spawn_call(Ctx, pipeline, receive_one, [Ch]),
    wait_for_receivers(Ch, 1),
    {ok, 4} = py:call(other_ctx(Config), operator, add, [2, 2]),
    {ok, 6} = py:call(Ctx, operator, add, [3, 3]),       % served while it waits
    receive {py_result, Waiting, Early} -> ct:fail({answered_early, Early}) after 0 -> ok end,
    ok = py_channel:send(Ch, <<"late">>),
    {ok, <<"late">>} = py:await(Waiting, 5000).

timeouts(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    {error, {'TimeoutError', _}} = py:call(Ctx, pipeline, receive_one, [Ch, 0.05]),
    {error, timeout} = py_channel:'receive'(Ch, 50),
    #{receivers := 0} = py_channel:info(Ch),              % nobody left waiting
    ok = py_channel:send(Ch, 1),
    {ok, 1} = py:call(Ctx, pipeline, receive_one, [Ch, 1.0]),
    {error, {'ValueError', _}} = py:call(Ctx, pipeline, receive_one, [Ch, -1]).

try_receive_on_empty(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    {ok, [none, true]} = py:call(Ctx, pipeline, try_receive_both, [Ch]),
    {error, empty} = py_channel:try_receive(Ch),
    %% A sent `none` is told apart from "empty" with a default.
    ok = py_channel:send(Ch, none),
    ok = py_channel:send(Ch, none),
    {ok, [none, false]} = py:call(Ctx, pipeline, try_receive_both, [Ch]).

%% Close wakes receivers of every kind; what is queued is still delivered first.
close_wakes_every_receiver(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    Sync = py:spawn_call(Ctx, pipeline, receive_or_closed, [Ch]),
    Thread = py:spawn_call(other_ctx(Config), pipeline, receive_in_thread, [Ch]),
    Async = py_event_loop:create_task(Ctx, pipeline, receive_async, [Ch]),
    Self = self(),
    Erl = spawn_link(fun() -> Self ! {erlang_receiver, py_channel:'receive'(Ch, infinity)} end),
    wait_for_receivers(Ch, 4),
    ok = py_channel:close(Ch),
    {ok, <<"closed">>} = py:await(Sync, 5000),
    {ok, <<"closed">>} = py:await(Thread, 5000),
    {ok, <<"closed">>} = py_event_loop:await(Async, 5000),
    receive {erlang_receiver, {error, closed}} -> ok after 5000 -> ct:fail(erlang_receiver) end,
    unlink(Erl),
    {error, closed} = py_channel:send(Ch, more),
    %% Queued messages outlive the close.
    {ok, Ch2} = py_channel:new(),
    [ok = py_channel:send(Ch2, I) || I <- [1, 2, 3]],
    ok = py_channel:close(Ch2),
    {ok, [1, 2, 3]} = py:call(Ctx, pipeline, collect, [Ch2]),
    {error, closed} = py_channel:try_receive(Ch2).

backpressure(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(#{max_size => 100}),
    #{max_size := 100} = py_channel:info(Ch),
    ok = py_channel:send(Ch, <<0:400>>),                  % 50 bytes of data plus overhead
    busy = py_channel:send(Ch, <<0:400>>),
    {error, timeout} = py_channel:send(Ch, <<0:400>>, 50),
    %% send/3 waits for room: a Python receiver makes it.
    Self = self(),
    spawn_link(fun() -> Self ! {sent, py_channel:send(Ch, <<1:400>>, 5000)} end),
    timer:sleep(50),
    receive {sent, Early} -> ct:fail({sent_before_room, Early}) after 0 -> ok end,
    {ok, <<0:400>>} = py:call(Ctx, pipeline, receive_one, [Ch]),
    receive {sent, ok} -> ok after 5000 -> ct:fail(send_never_got_room) end,
    {ok, <<1:400>>} = py:call(Ctx, pipeline, receive_one, [Ch]),
    %% Python senders wait too (try_send says no).
    ok = py:exec(Ctx, <<"from erlang.channel import Channel\n"
                        "def fill(ch):\n"
                        "    sent = 0\n"
                        "    while ch.try_send(b'x' * 40):\n"
                        "        sent += 1\n"
                        "    try:\n"
                        "        ch.send(b'y', timeout=0.05)\n"
                        "    except TimeoutError:\n"
                        "        return sent\n">>),
    {ok, Sent} = py:call(Ctx, '__main__', fill, [Ch]),
    true = Sent >= 1,
    {error, closed} = begin ok = py_channel:close(Ch), py_channel:send(Ch, x, 100) end.

%% One Erlang producer, four consuming contexts: every message exactly once.
many_receivers_exactly_once(_Config) ->
    Ctxs = [begin {ok, C} = py_context:start_link(810 + I, auto), C end || I <- lists:seq(1, 4)],
    [ok = py:exec(C, <<"def take_all(ch):\n    return list(ch)\n">>) || C <- Ctxs],
    {ok, Ch} = py_channel:new(),
    Refs = [py:spawn_call(C, '__main__', take_all, [Ch]) || C <- Ctxs],
    N = 20000,
    [ok = py_channel:send(Ch, I) || I <- lists:seq(1, N)],
    ok = py_channel:close(Ch),
    Lists = [begin {ok, L} = py:await(R, 30000), L end || R <- Refs],
    %% Each consumer saw the producer's messages in send order.
    [L = lists:sort(L) || L <- Lists],
    All = lists:sort(lists:append(Lists)),
    All = lists:seq(1, N),
    ct:log("per consumer: ~p", [[length(L) || L <- Lists]]),
    [py_context:stop(C) || C <- Ctxs].

hundred_thousand_pipeline(_Config) ->
    {ok, Ctx} = py_context:start_link(820, auto),
    {ok, Ch} = py_channel:new(),
    Ref = py:spawn_call(Ctx, pipeline, processor, [Ch]),
    N = 100000,
    [ok = py_channel:send(Ch, {job, I, <<"payload">>}) || I <- lists:seq(1, N)],
    ok = py_channel:close(Ch),
    Expected = N * (N + 1) div 2,
    {ok, Expected} = py:await(Ref, 60000),
    py_context:stop(Ctx).

python_made_channel_used_from_erlang(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py:call(Ctx, pipeline, make_channel, [[1, <<"two">>, #{three => 3}]]),
    true = py_channel:is_channel(Ch),
    {ok, 1} = py_channel:try_receive(Ch),
    {ok, <<"two">>} = py_channel:'receive'(Ch, 1000),
    {ok, #{three := 3}} = py_channel:'receive'(Ch, 1000),
    ok = py_channel:send(Ch, back_to_python),
    {ok, back_to_python} = py:call(Ctx, pipeline, receive_one, [Ch]).

%% Python sends, Erlang receives (blocking, with a waiting Erlang receiver).
python_to_erlang_direction(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    Self = self(),
    spawn_link(fun() -> Self ! {got, [py_channel:'receive'(Ch, 5000) || _ <- [1, 2, 3]]} end),
    wait_for_receivers(Ch, 1),
    {ok, 3} = py:call(Ctx, pipeline, send_all, [Ch, [a, {b, 1}, <<"c">>]]),
    receive {got, [{ok, a}, {ok, {b, 1}}, {ok, <<"c">>}]} -> ok
    after 5000 -> ct:fail(erlang_receiver_got_nothing)
    end.

%% Erlang send -> Python receive -> erlang.send back, many times in a row.
ping_pong(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    N = 1000,
    Ref = py:spawn_call(Ctx, pipeline, echo, [Ch, self(), N]),
    [begin
         ok = py_channel:send(Ch, {ping, I}),
         receive {ping, I} -> ok after 5000 -> ct:fail({no_pong, I}) end
     end || I <- lists:seq(1, N)],
    {ok, <<"echoed">>} = py:await(Ref, 5000).

%% An Erlang receiver woken for a message but dead before it takes it: the message goes
%% to the next receiver.
dead_erlang_receiver_hands_on(_Config) ->
    {ok, Ch} = py_channel:new(),
    Self = self(),
    Doomed = spawn(fun() -> py_channel:'receive'(Ch, infinity) end),
    wait_for_receivers(Ch, 1),
    exit(Doomed, kill),
    timer:sleep(20),
    #{receivers := 0} = py_channel:info(Ch),              % dropped through its monitor
    spawn_link(fun() -> Self ! {second, py_channel:'receive'(Ch, 5000)} end),
    wait_for_receivers(Ch, 1),
    ok = py_channel:send(Ch, survivor),
    receive {second, {ok, survivor}} -> ok after 5000 -> ct:fail(message_lost) end.

%% Receivers of every kind on one channel: each message to exactly one of them.
mixed_receivers_exactly_once(_Config) ->
    {ok, Ctx} = py_context:start_link(830, auto),
    ok = py:exec(Ctx, <<"import asyncio, erlang\n"
                        "from erlang.channel import Channel\n"
                        "async def async_all(ch):\n"
                        "    return [m async for m in ch]\n">>),
    {ok, Ch} = py_channel:new(),
    Self = self(),
    ErlangReceiver = fun Loop(Acc) ->
                             case py_channel:'receive'(Ch, infinity) of
                                 {ok, M} -> Loop([M | Acc]);
                                 {error, closed} -> Self ! {erl_got, lists:reverse(Acc)}
                             end
                     end,
    [spawn_link(fun() -> ErlangReceiver([]) end) || _ <- [1, 2]],
    Sync = py:spawn_call(Ctx, pipeline, collect, [Ch]),
    Async = py_event_loop:create_task(Ctx, '__main__', async_all, [Ch]),
    N = 5000,
    [ok = py_channel:send(Ch, I) || I <- lists:seq(1, N)],
    ok = py_channel:close(Ch),
    {ok, S} = py:await(Sync, 30000),
    {ok, A} = py_event_loop:await(Async, 30000),
    E = lists:append([receive {erl_got, L} -> L after 30000 -> ct:fail(erlang_receivers) end
                      || _ <- [1, 2]]),
    ct:log("sync ~p, async ~p, erlang ~p", [length(S), length(A), length(E)]),
    All = lists:sort(S ++ A ++ E),
    All = lists:seq(1, N),
    py_context:stop(Ctx).

bad_input(_Config) ->
    {error, {badarg, channel}} = py_channel:send(not_a_channel, x),
    {error, {badarg, channel}} = py_channel:close(make_ref()),
    {error, {badarg, channel}} = py_channel:try_receive(<<"ch">>),
    {error, {badarg, channel}} = py_channel:info(42),
    {error, {badarg, channel}} = py_channel:'receive'(self(), 10),
    {error, {badarg, {max_size, -1}}} = py_channel:new(#{max_size => -1}),
    {error, {badarg, {max_size, big}}} = py_channel:new(#{max_size => big}),
    {error, {badarg, not_a_map}} = py_channel:new(not_a_map),
    {ok, Ch} = py_channel:new(),
    {error, {badarg, -5}} = py_channel:'receive'(Ch, -5),
    {error, {badarg, soon}} = py_channel:send(Ch, x, soon),
    false = py_channel:is_channel(make_ref()),
    true = py_channel:is_channel(Ch),
    %% A term Python cannot take is the receiver's error, and the channel goes on.
    ok = py_channel:send(Ch, fun() -> ok end),
    ok = py_channel:send(Ch, fine),
    {ok, Ctx} = py_context:start_link(840, auto),
    {error, {'TypeError', _}} = py:call(Ctx, pipeline, receive_one, [Ch]),
    {ok, fine} = py:call(Ctx, pipeline, receive_one, [Ch]),
    py_context:stop(Ctx).

%% A channel nobody refers to any more is freed with what it holds.
unreferenced_channels_are_freed(_Config) ->
    #{live_channels := C0, live_channel_messages := M0} = py_nif:engine_info(),
    {ok, Ctx} = py_context:start_link(850, auto),
    Self = self(),
    Pid = spawn_link(fun() ->
                             [begin
                                  {ok, Ch} = py_channel:new(),
                                  [ok = py_channel:send(Ch, {data, I, <<0:800>>}) || I <- [1, 2, 3]],
                                  {ok, _} = py:call(Ctx, pipeline, receive_one, [Ch])
                              end || _ <- lists:seq(1, 10000)],
                             Self ! done
                     end),
    receive done -> ok after 60000 -> ct:fail(slow) end,
    unlink(Pid),
    py_context:stop(Ctx),
    ok = epy_ct:wait_until(fun() ->
                            erlang:garbage_collect(),
                            #{live_channels := C, live_channel_messages := M} = py_nif:engine_info(),
                            C =< C0 andalso M =< M0
                    end, 10000).

%% asyncio receivers: async_receive waits while other tasks run; async for ends on close.
async_receive_in_tasks(Config) ->
    Ctx = ctx(Config),
    {ok, Ch} = py_channel:new(),
    Waiting = py_event_loop:create_task(Ctx, pipeline, receive_async, [Ch]),
    wait_for_receivers(Ch, 1),
    {ok, 5} = py_event_loop:run(Ctx, operator, add, [2, 3]),   % the loop is not blocked
    ok = py_channel:send(Ch, <<"async hello">>),
    {ok, <<"async hello">>} = py_event_loop:await(Waiting, 5000),
    {ok, Ch2} = py_channel:new(),
    Collect = py_event_loop:create_task(Ctx, pipeline, collect_async, [Ch2]),
    [ok = py_channel:send(Ch2, I) || I <- lists:seq(1, 100)],
    ok = py_channel:close(Ch2),
    {ok, L} = py_event_loop:await(Collect, 5000),
    L = lists:seq(1, 100).

%% Channels are ordinary values: in containers, through erlang.send, back to Erlang.
channels_as_values(Config) ->
    Ctx = ctx(Config),
    {ok, <<"sent">>} = py:call(Ctx, pipeline, send_channel_to, [self(), [x, y]]),
    Ch = receive {<<"channel">>, C} -> C after 5000 -> ct:fail(no_channel) end,
    {ok, x} = py_channel:try_receive(Ch),
    {ok, Ch2} = py_channel:new(),
    {ok, [Ch2, Ch2]} = py:eval(Ctx, <<"[c, c]">>, #{c => Ch2}),
    {ok, true} = py:eval(Ctx, <<"a == b and hash(a) == hash(b)">>, #{a => Ch2, b => Ch2}),
    {ok, false} = py:eval(Ctx, <<"a == b">>, #{a => Ch, b => Ch2}),
    {ok, true} = py:eval(Ctx, <<"__import__('erlang.channel').channel.Channel(c) is c">>, #{c => Ch2}).

%%% ------------------------------------------------------------------------------------

wait_for_receivers(Ch, N) ->
    ok = epy_ct:wait_until(fun() -> maps:get(receivers, py_channel:info(Ch)) >= N end, 5000).
