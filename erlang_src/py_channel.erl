%% @doc Channels: message pipelines between Erlang processes and Python contexts.
%%
%% A channel is a queue of terms that any number of senders and receivers share, in any
%% mix of Erlang processes, Python contexts, threads and asyncio tasks. Each message goes
%% to exactly one receiver, in send order per sender. A channel is a plain term (pass it
%% to Python as an argument; Python may create one and return it) and lives as long as
%% anything refers to it.
%%
%% Erlang side: new/0,1, send/2,3, close/1, info/1, and receive/2 ('receive'/2 from
%% Erlang code: `receive' is a reserved word) and try_receive/1 for messages Python sends.
%% Python side: erlang.channel.Channel (receive, try_receive, async_receive, send,
%% close, iteration).
-module(py_channel).

-include("erlang_python.hrl").

-export([new/0]).
-export([new/1]).
-export([send/2]).
-export([send/3]).
-export([close/1]).
-export([info/1]).
-export(['receive'/2]).
-export([try_receive/1]).
-export([is_channel/1]).

-export_type([channel/0]).

-opaque channel() :: reference().


%% @doc A new unbounded channel.
-spec new() -> {ok, channel()}.
new() ->
    new(#{}).

%% @doc A new channel. Options: max_size (bytes, roughly the memory of the queued terms):
%% beyond it send/2 answers busy and send/3 waits for room.
-spec new(#{max_size => pos_integer() | infinity}) -> {ok, channel()} | {error, term()}.
new(Opts) when is_map(Opts) ->
    case maps:get(max_size, Opts, infinity) of
        infinity -> py_nif:channel_new(0);
        Max when is_integer(Max), Max > 0 -> py_nif:channel_new(Max);
        Other -> {error, {badarg, {max_size, Other}}}
    end;
new(Opts) ->
    {error, {badarg, Opts}}.

%% @doc Queues Term (any term). ok | busy (the channel is at its max_size) | {error, closed}.
-spec send(channel(), term()) -> ok | busy | {error, closed | {badarg, term()}}.
send(Ch, Term) ->
    case py_nif:channel_send(Ch, Term) of
        closed -> {error, closed};
        Result -> Result
    end.

%% @doc As send/2, waiting up to Timeout ms for room in a full channel.
-spec send(channel(), term(), timeout()) -> ok | {error, timeout | closed | {badarg, term()}}.
send(_Ch, _Term, Timeout) when not ?IS_TIMEOUT(Timeout) ->
    {error, {badarg, Timeout}};
send(Ch, Term, Timeout) ->
    Tag = make_ref(),
    send_loop(Ch, Term, Tag, deadline(Timeout)).

send_loop(Ch, Term, Tag, Deadline) ->
    case py_nif:channel_send_wait(Ch, Term, Tag) of
        ok -> ok;
        closed -> {error, closed};
        {error, _} = Error -> Error;
        busy ->
            receive
                {py_channel_room, Tag} -> send_loop(Ch, Term, Tag, Deadline)
            after left(Deadline) ->
                give_up(Ch, Tag, py_channel_room),
                {error, timeout}
            end
    end.

%% @doc Closes the channel: no more sends; receivers get what is queued, then
%% {error, closed} (Python: ChannelClosed). Every waiting receiver is woken.
-spec close(channel()) -> ok | {error, {badarg, term()}}.
close(Ch) ->
    py_nif:channel_close(Ch).

%% @doc #{size (bytes queued), count, max_size (bytes or infinity), closed, receivers
%% (waiting now)}.
-spec info(channel()) -> map() | {error, {badarg, term()}}.
info(Ch) ->
    py_nif:channel_info(Ch).

%% @doc The next message, waiting up to Timeout ms: {ok, Term} | {error, timeout} |
%% {error, closed} once closed and drained. Called as py_channel:'receive'(Ch, Timeout).
-spec 'receive'(channel(), timeout()) -> {ok, term()} | {error, timeout | closed | {badarg, term()}}.
'receive'(_Ch, Timeout) when not ?IS_TIMEOUT(Timeout) ->
    {error, {badarg, Timeout}};
'receive'(Ch, Timeout) ->
    Tag = make_ref(),
    receive_loop(Ch, Tag, deadline(Timeout)).

receive_loop(Ch, Tag, Deadline) ->
    case py_nif:channel_receive(Ch, Tag) of
        {ok, _} = Ok -> Ok;
        closed -> {error, closed};
        {error, _} = Error -> Error;
        waiting ->
            receive
                {py_channel_ready, Tag} -> receive_loop(Ch, Tag, Deadline)
            after left(Deadline) ->
                give_up(Ch, Tag, py_channel_ready),
                {error, timeout}
            end
    end.

%% @doc The next message if one is queued: {ok, Term} | {error, empty} | {error, closed}.
-spec try_receive(channel()) -> {ok, term()} | {error, empty | closed | {badarg, term()}}.
try_receive(Ch) ->
    case py_nif:channel_try_receive(Ch) of
        {ok, _} = Ok -> Ok;
        empty -> {error, empty};
        closed -> {error, closed};
        {error, _} = Error -> Error
    end.

%% @doc Whether Term is a channel.
-spec is_channel(term()) -> boolean().
is_channel(Term) ->
    py_nif:is_channel(Term).

%% A waiter that stops waiting hands on a wake-up it got (so another receiver takes the
%% message) and drops one that is already in the mailbox.
give_up(Ch, Tag, Wake) ->
    ok = py_nif:channel_cancel(Ch, Tag),
    receive {Wake, Tag} -> ok after 0 -> ok end.

deadline(infinity) -> infinity;
deadline(Timeout) -> erlang:monotonic_time(millisecond) + Timeout.

left(infinity) -> infinity;
left(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).
