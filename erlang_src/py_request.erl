%% @doc Requests to a context, from the caller's side: submit through the NIF, wait for
%% the answer in the caller's own receive, give up on a timeout (the request is cancelled,
%% or its answer taken out of the mailbox if it came just then).
%%
%% The context's own process (py_context) never sees a request: this code runs in the
%% caller.
-module(py_request).

-include("erlang_python.hrl").

-export([exec/3]).
-export([eval/4]).
-export([call/6]).
-export([cast/5]).
-export([submit_call/6]).
-export([await/2]).

-type code() :: unicode:chardata().

-spec exec(py_context:context(), code(), timeout()) -> ok | {error, term()}.
exec(_Ctx, _Code, Timeout) when not ?IS_TIMEOUT(Timeout) ->
    {error, {badarg, Timeout}};
exec(Ctx, Code, Timeout) ->
    case to_code(Code) of
        {ok, Bin} ->
            Ref = make_ref(),
            case py_nif:exec(Ctx, Ref, Bin) of
                ok -> receive {py_result, Ref, Result} -> Result
                      after Timeout -> give_up(Ctx, Ref)
                      end;
                {py_result, Ref, Result} -> Result;
                Error -> Error
            end;
        Error ->
            Error
    end.

-spec eval(py_context:context(), code(), map(), timeout()) -> py_context:result().
eval(_Ctx, _Code, _Locals, Timeout) when not ?IS_TIMEOUT(Timeout) ->
    {error, {badarg, Timeout}};
eval(Ctx, Code, Locals, Timeout) ->
    case to_code(Code) of
        {ok, Bin} ->
            Ref = make_ref(),
            case py_nif:eval(Ctx, Ref, Bin, Locals) of
                ok -> receive {py_result, Ref, Result} -> Result
                      after Timeout -> give_up(Ctx, Ref)
                      end;
                {py_result, Ref, Result} -> Result;
                Error -> Error
            end;
        Error ->
            Error
    end.

-spec call(py_context:context(), atom() | binary(), atom() | binary(), list(), map(), timeout()) ->
          py_context:result().
call(_Ctx, _Module, _Function, _Args, _Kwargs, Timeout) when not ?IS_TIMEOUT(Timeout) ->
    {error, {badarg, Timeout}};
call(Ctx, Module, Function, Args, Kwargs, Timeout) ->
    Ref = make_ref(),
    case py_nif:call(Ctx, Ref, Module, Function, Args, Kwargs) of
        ok -> receive {py_result, Ref, Result} -> Result
              after Timeout -> give_up(Ctx, Ref)
              end;
        {py_result, Ref, Result} -> Result;  % answered while the NIF waited
        Error -> Error
    end.

-spec cast(py_context:context(), atom() | binary(), atom() | binary(), list(), map()) -> ok | {error, term()}.
cast(Ctx, Module, Function, Args, Kwargs) ->
    py_nif:cast(Ctx, Module, Function, Args, Kwargs).

%% @doc Submits a call whose result arrives later as {py_result, Ref, Result}; a request
%% that cannot even be queued still answers that way, so await/2 sees every outcome.
-spec submit_call(py_context:context(), reference(), atom() | binary(), atom() | binary(), list(), map()) -> ok.
submit_call(Ctx, Ref, Module, Function, Args, Kwargs) ->
    case py_nif:call_async(Ctx, Ref, Module, Function, Args, Kwargs) of
        ok -> ok;
        Error -> self() ! {py_result, Ref, Error}, ok
    end.

%% @doc Waits for the result of a submitted request. On timeout the request is cancelled
%% (interrupted in Python if it runs) and no late reply is left in the mailbox.
-spec await(reference(), timeout()) -> py_context:result() | ok.
await(_Ref, Timeout) when not ?IS_TIMEOUT(Timeout) ->
    {error, {badarg, Timeout}};
await(Ref, Timeout) ->
    receive {py_result, Ref, Result} -> Result
    after Timeout -> give_up(all, Ref)
    end.

%% The caller stops waiting for Ref. Either the request is cancelled (nothing will be
%% sent) or its reply has already been sent, in which case it is taken from the mailbox.
give_up(Where, Ref) ->
    case py_nif:cancel(Where, Ref) of
        cancelled -> {error, timeout};
        not_pending -> receive {py_result, Ref, Result} -> Result
                       after 0 -> {error, timeout}
                       end
    end.

to_code(Code) when is_binary(Code) ->
    {ok, Code};
to_code(Code) ->
    try unicode:characters_to_binary(Code) of
        Bin when is_binary(Bin) -> {ok, Bin};
        _ -> {error, {badarg, code}}
    catch
        error:_ -> {error, {badarg, code}}
    end.
