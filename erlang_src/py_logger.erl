%% @doc Delivers Python's logging records to Erlang's logger.
%%
%% Every context's root Python logger has a handler that sends its records here (at or
%% above the configured level only); they are logged with domain [python] and the
%% record's file, line, function and logger name as metadata. Configure with
%% py:configure_logging/1 or the application's python_log_level.
%% @private
-module(py_logger).
-behaviour(gen_server).

-export([start_link/0]).
-export([configure/1]).
-export([init/1]).
-export([handle_call/3]).
-export([handle_cast/2]).
-export([handle_info/2]).
-export([terminate/2]).

-define(FILTER, erlang_python_domain).
-define(LEVELS, #{debug => 10, info => 20, warning => 30, error => 40, critical => 50,
                  none => 1000}).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

-spec configure(map()) -> ok | {error, term()}.
configure(#{level := Level} = Opts) when map_size(Opts) =:= 1 ->
    case maps:find(Level, ?LEVELS) of
        {ok, _} -> gen_server:call(?MODULE, {level, Level});
        error -> {error, {badarg, Level}}
    end;
configure(Opts) ->
    {error, {badarg, Opts}}.

init([]) ->
    process_flag(trap_exit, true),
    Level = application:get_env(erlang_python, python_log_level, warning),
    ok = py_nif:set_log_sink(self(), maps:get(Level, ?LEVELS, 30)),
    show_in_default_handler(),
    {ok, Level}.

%% OTP's default handler drops events of domains other than [otp, sasl, ...]: let it show
%% domain [python] too (unless the application's python_log_default_handler is false).
show_in_default_handler() ->
    case application:get_env(erlang_python, python_log_default_handler, true) of
        true ->
            _ = logger:add_handler_filter(default, ?FILTER,
                                          {fun logger_filters:domain/2, {log, super, [python]}}),
            ok;
        false ->
            ok
    end.

handle_call({level, Level}, _From, _Old) ->
    Number = maps:get(Level, ?LEVELS),
    ok = py_nif:set_log_sink(self(), Number),
    %% Every request that starts from now on sets its context's root logger level first
    %% (the NIF compares levels); the casts also reach contexts whose background tasks
    %% or threads log while no request comes.
    [py_context:cast(Ctx, 'erlang._logging', set_level, [Number], #{}) || Ctx <- py_nif:context_pids()],
    {reply, ok, Level};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_request}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info({py_log, Level, Name, Message, Meta}, State) ->
    logger:log(Level, "~ts", [Message], Meta#{domain => [python], python_logger => Name}),
    {noreply, State};
handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    _ = logger:remove_handler_filter(default, ?FILTER),
    py_nif:set_log_sink(undefined, 1000).
