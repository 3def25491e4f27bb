%% Sockets between Erlang and Python: erlang.reactor protocols (serve), descriptors handed
%% over with py:dup_fd/1 and py_reactor_context:handoff/2.
-module(py_reactor_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([seed_serve_example/1, seed_handoff_example/1, handoff_without_dup/1,
         many_connections_no_leak/1, protocol_verdicts_and_callbacks/1, handoff_errors/1,
         dup_fd_for_asyncio/1]).

-define(PROTOCOLS, <<"
import socket
import erlang
from erlang.reactor import Protocol, serve


class EchoProtocol(Protocol):
    def data_received(self, data):
        self.write(data)
        return 'continue'


class Shouting(Protocol):
    def connection_made(self):
        self.write(b'HELLO\\n')

    def data_received(self, data):
        self.write(data.upper())
        return 'close' if b'bye' in data else 'continue'


class Reporting(Protocol):
    target = None

    def connection_made(self):
        erlang.send(Reporting.target, 'made')

    def data_received(self, data):
        if data.startswith(b'boom'):
            raise RuntimeError('protocol failure')
        if data.startswith(b'weird'):
            return 'sideways'
        self.write(data)

    def connection_lost(self, exc):
        erlang.send(Reporting.target, 'lost')


def set_target(pid):
    Reporting.target = pid


def listen_and_serve(pid):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen()
    erlang.send(pid, ('port', listener.getsockname()[1]))
    serve(listener, EchoProtocol)          # the seed's call, blocking this request


def serve_connected(fd):
    serve(socket.socket(fileno=fd), EchoProtocol)
    return 'connection over'


async def handle_fd_async(fd):
    import asyncio
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    data = await loop.sock_recv(sock, 100)
    await loop.sock_sendall(sock, data[::-1])
    sock.close()
    return data


def handle_fd(fd):
    return erlang.run(handle_fd_async(fd))
">>).

all() ->
    [seed_serve_example, seed_handoff_example, handoff_without_dup, many_connections_no_leak,
     protocol_verdicts_and_callbacks, handoff_errors, dup_fd_for_asyncio].

init_per_suite(Config) ->
    epy_ct:start_with_python_module(Config, protocols, ?PROTOCOLS).

end_per_suite(_Config) ->
    py_reactor_context:stop(),
    epy_ct:stop().

connect(Port) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}]),
    S.

echo(S, Data) ->
    ok = gen_tcp:send(S, Data),
    {ok, Data} = gen_tcp:recv(S, byte_size(Data), 5000).

listener() ->
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {ip, loopback}, {reuseaddr, true}]),
    {ok, Port} = inet:port(L),
    {L, Port}.

%% Accepts one connection and hands it to the reactor the way the seed does.
accept_and_handoff(L, Opts) ->
    {ok, Sock} = gen_tcp:accept(L, 5000),
    {ok, Fd} = inet:getfd(Sock),
    {ok, Dup} = py:dup_fd(Fd),
    ok = py_reactor_context:handoff(Dup, Opts),
    gen_tcp:close(Sock).


%%% ------------------------------------------------------------------------------------

%% Python's serve(sock, EchoProtocol) on a listening socket: every client is echoed, and
%% the context keeps serving other calls meanwhile.
seed_serve_example(_Config) ->
    {ok, Ctx} = py_context:start_link(1100, auto),
    Ref = py:spawn_call(Ctx, protocols, listen_and_serve, [self()]),
    Port = receive {<<"port">>, P} -> P after 5000 -> ct:fail(no_port) end,
    Clients = [connect(Port) || _ <- lists:seq(1, 5)],
    [echo(C, <<"ping ", (integer_to_binary(I))/binary>>)
     || {I, C} <- lists:zip(lists:seq(1, 5), Clients)],
    {ok, 3} = py:eval(Ctx, <<"1 + 2">>),  % served while serve() runs
    [gen_tcp:close(C) || C <- Clients],
    ok = py:interrupt(Ctx),                % ends serve()
    {error, interrupted} = py:await(Ref, 5000),
    py_context:stop(Ctx).

seed_handoff_example(_Config) ->
    {L, Port} = listener(),
    Client = connect(Port),
    accept_and_handoff(L, #{type => tcp, protocol => {protocols, 'EchoProtocol'}}),
    echo(Client, <<"through the reactor">>),
    echo(Client, <<"and again">>),
    gen_tcp:close(Client),
    gen_tcp:close(L).

%% The descriptor of a live Erlang socket: Python gets a duplicate, Erlang keeps its own.
handoff_without_dup(_Config) ->
    {L, Port} = listener(),
    Client = connect(Port),
    {ok, Sock} = gen_tcp:accept(L, 5000),
    {ok, Fd} = inet:getfd(Sock),
    ok = py_reactor_context:handoff(Fd, #{protocol => {protocols, 'Shouting'}}),
    {ok, <<"HELLO\n">>} = gen_tcp:recv(Client, 6, 5000),
    gen_tcp:close(Sock),                   % Python's copy lives on
    echo_upper(Client, <<"quiet">>),
    ok = gen_tcp:send(Client, <<"bye">>),  % the protocol closes
    {ok, <<"BYE">>} = gen_tcp:recv(Client, 3, 5000),
    {error, closed} = gen_tcp:recv(Client, 0, 5000),
    gen_tcp:close(L).

echo_upper(S, Data) ->
    ok = gen_tcp:send(S, Data),
    Upper = string:uppercase(Data),
    {ok, Upper} = gen_tcp:recv(S, byte_size(Data), 5000).

%% Fifty connections, spread over the reactor's contexts; afterwards every descriptor is
%% closed again.
many_connections_no_leak(_Config) ->
    {ok, _} = py_reactor_context:start(#{protocol => {protocols, 'EchoProtocol'}}),
    Before = epy_ct:descriptors(),
    {L, Port} = listener(),
    Clients = [begin
                   C = connect(Port),
                   accept_and_handoff(L, #{type => tcp}),   % the pool's protocol
                   C
               end || _ <- lists:seq(1, 50)],
    [echo(C, <<"n", (integer_to_binary(I))/binary>>)
     || {I, C} <- lists:zip(lists:seq(1, 50), Clients)],
    [gen_tcp:close(C) || C <- Clients],
    gen_tcp:close(L),
    ok = epy_ct:wait_until(fun() -> epy_ct:descriptors() =< Before end, 5000).

protocol_verdicts_and_callbacks(_Config) ->
    {ok, [Ctx | _]} = py_reactor_context:start(),
    [{ok, none} = py:call(C, protocols, set_target, [self()]) || C <- py_reactor_context:contexts()],
    _ = Ctx,
    {L, Port} = listener(),
    %% connection_made / connection_lost, and an exception closes the connection.
    C1 = connect(Port),
    accept_and_handoff(L, #{protocol => {protocols, 'Reporting'}}),
    receive <<"made">> -> ok after 5000 -> ct:fail(no_connection_made) end,
    echo(C1, <<"fine">>),
    ok = gen_tcp:send(C1, <<"boom">>),
    {error, closed} = gen_tcp:recv(C1, 0, 5000),
    receive <<"lost">> -> ok after 5000 -> ct:fail(no_connection_lost) end,
    %% An unknown verdict is an error too.
    C2 = connect(Port),
    accept_and_handoff(L, #{protocol => {protocols, 'Reporting'}}),
    receive <<"made">> -> ok after 5000 -> ct:fail(no_connection_made) end,
    ok = gen_tcp:send(C2, <<"weird">>),
    {error, closed} = gen_tcp:recv(C2, 0, 5000),
    gen_tcp:close(L).

handoff_errors(_Config) ->
    Before = epy_ct:descriptors(),
    {error, {badarg, {type, udp}}} = py_reactor_context:handoff(0, #{type => udp, protocol => {a, b}}),
    {error, {badarg, -1}} = py_reactor_context:handoff(-1, #{protocol => {a, b}}),
    {error, {badarg, {protocol, 42}}} = py_reactor_context:handoff(0, #{protocol => 42}),
    {error, {badarg, {protocol, nope}}} = py_reactor_context:start(#{protocol => nope}),
    {error, ebadf} = py_reactor_context:handoff(1000000, #{protocol => {protocols, 'EchoProtocol'}}),
    {error, {badarg, -3}} = py:dup_fd(-3),
    {error, ebadf} = py:dup_fd(1000000),
    %% A handoff that fails in Python closes Python's descriptor.
    {L, Port} = listener(),
    Client = connect(Port),
    {ok, Sock} = gen_tcp:accept(L, 5000),
    {ok, Fd} = inet:getfd(Sock),
    {error, {'ModuleNotFoundError', _}} =
        py_reactor_context:handoff(Fd, #{protocol => {no_such_module, 'P'}}),
    {error, {'AttributeError', _}} =
        py_reactor_context:handoff(Fd, #{protocol => {protocols, 'NoSuchClass'}}),
    echo_through_erlang(Sock, Client),     % Erlang's socket is untouched
    gen_tcp:close(Client),
    gen_tcp:close(Sock),
    gen_tcp:close(L),
    ok = epy_ct:wait_until(fun() -> epy_ct:descriptors() =< Before end, 5000).

echo_through_erlang(Sock, Client) ->
    ok = gen_tcp:send(Client, <<"x">>),
    {ok, <<"x">>} = gen_tcp:recv(Sock, 1, 5000).

%% The seed's "direct asyncio usage": a duplicate passed as an argument, owned by the
%% Python socket made from it.
dup_fd_for_asyncio(_Config) ->
    {L, Port} = listener(),
    Client = connect(Port),
    {ok, ClientSock} = gen_tcp:accept(L, 5000),
    {ok, Fd} = inet:getfd(ClientSock),
    {ok, DupFd} = py:dup_fd(Fd),
    true = DupFd =/= Fd,
    Ctx = py:context(1),
    Ref = py:spawn_call(Ctx, protocols, handle_fd, [DupFd]),
    gen_tcp:close(ClientSock),
    ok = gen_tcp:send(Client, <<"abc">>),
    {ok, <<"cba">>} = gen_tcp:recv(Client, 3, 5000),
    {ok, <<"abc">>} = py:await(Ref, 5000),
    gen_tcp:close(Client),
    gen_tcp:close(L).
