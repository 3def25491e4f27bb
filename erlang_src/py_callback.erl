%% @doc Erlang functions that Python code can call (py:register_function/2,3).
%%
%% Python's erlang.call(Name, Args...) (or `from erlang import Name`) sends this process
%% {py_callback, Token, Name, Args, Ctx}; it runs the function in a new process, bound to
%% the calling context Ctx, so the function may call back into that context (which keeps
%% serving while it waits) to any depth. The answer goes back with
%% py_nif:callback_reply(Token, Result). The process also relays erlang.send to names on
%% other nodes and to remote pids, which only Erlang itself can address.
%% @private
-module(py_callback).
-behaviour(gen_server).

-export([start_link/0]).
-export([register_function/2]).
-export([unregister_function/1]).
-export([init/1]).
-export([handle_call/3]).
-export([handle_cast/2]).
-export([handle_info/2]).
-export([terminate/2]).

-define(TABLE, py_callback_functions).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

-spec register_function(binary(), fun((list()) -> term()) | {module(), atom()}) -> ok.
register_function(Name, How) ->
    gen_server:call(?MODULE, {register, Name, How}).

-spec unregister_function(binary()) -> ok.
unregister_function(Name) ->
    gen_server:call(?MODULE, {unregister, Name}).

init([]) ->
    process_flag(trap_exit, true),
    ets:new(?TABLE, [named_table, protected, {read_concurrency, true}]),
    ok = py_nif:callback_names([]),
    ok = py_nif:set_callback_handler(self(), py:default_timeout()),
    {ok, #{}}.

handle_call({register, Name, How}, _From, State) ->
    ets:insert(?TABLE, {Name, How}),
    {reply, publish(), State};
handle_call({unregister, Name}, _From, State) ->
    ets:delete(?TABLE, Name),
    {reply, publish(), State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_request}, State}.

%% The names Python may look up (erlang.my_func, from erlang import my_func).
publish() ->
    py_nif:callback_names([Name || {Name, _} <- ets:tab2list(?TABLE)]).

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info({py_callback, Token, Name, Args, Ctx}, State) ->
    case ets:lookup(?TABLE, Name) of
        [{_, How}] -> spawn(fun() -> run(Token, How, Args, Ctx) end);
        [] -> py_nif:callback_reply(Token, not_registered)
    end,
    {noreply, State};
handle_info({py_send, Dest, Msg}, State) ->
    %% erlang:send/2 may have to set up a connection to another node: not here.
    spawn(fun() -> catch erlang:send(Dest, Msg) end),
    {noreply, State};
handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    py_nif:set_callback_handler(undefined, 0),
    py_nif:callback_names([]).

run(Token, How, Args, Ctx) ->
    is_pid(Ctx) andalso py_context_router:bind_context(Ctx),
    Result = try {ok, apply_function(How, Args)}
             catch Class:Reason:Stack -> {error, Class, Reason, describe(Class, Reason, Stack)}
             end,
    py_nif:callback_reply(Token, Result).

apply_function(Fun, Args) when is_function(Fun, 1) -> Fun(Args);
apply_function({M, F}, Args) -> M:F(Args).

describe(Class, Reason, Stack) ->
    Where = case Stack of
                [{M, F, A, _} | _] when is_list(A) -> io_lib:format(" in ~p:~p/~p", [M, F, length(A)]);
                [{M, F, A, _} | _] -> io_lib:format(" in ~p:~p/~p", [M, F, A]);
                _ -> ""
            end,
    unicode:characters_to_binary(io_lib:format("~p: ~0tP~s", [Class, Reason, 30, Where])).
