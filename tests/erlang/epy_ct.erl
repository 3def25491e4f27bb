%% Helpers shared by the suites: starting the application with a Python module of the
%% suite's own on every context's path, contexts per execution mode, waiting for a
%% condition.
-module(epy_ct).
-include_lib("common_test/include/ct.hrl").

-export([start_with_python_module/3]).
-export([stop/0]).
-export([mode_contexts/3]).
-export([stop_contexts/1]).
-export([wait_until/2]).

%% Writes Source as Module.py into the suite's priv_dir, puts that directory on every
%% context's sys.path and starts the application.
start_with_python_module(Config, Module, Source) ->
    Dir = filename:join(?config(priv_dir, Config), "python"),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    ok = file:write_file(filename:join(Dir, atom_to_list(Module) ++ ".py"), Source),
    application:load(erlang_python),
    ok = application:set_env(erlang_python, paths, [Dir]),
    {ok, _} = application:ensure_all_started(erlang_python),
    [{paths, [Dir]} | Config].

stop() ->
    application:stop(erlang_python),
    application:unset_env(erlang_python, paths).

%% Contexts (not linked to the test process) in Mode, or in multi_executor where this
%% Python has no OWN_GIL subinterpreters; adds {ctxs, Ctxs} and {mode, Mode} to Config.
mode_contexts(Mode, Ids, Config) ->
    Resolved = case Mode =:= multi_executor orelse py:subinterp_supported() of
                   true -> Mode;
                   false -> multi_executor
               end,
    Ctxs = [begin {ok, C} = py_context:start_link(Id, Resolved), unlink(C), C end || Id <- Ids],
    [{ctxs, Ctxs}, {mode, Resolved} | Config].

stop_contexts(Config) ->
    [py_context:stop(C) || C <- ?config(ctxs, Config)],
    ok.

%% ok once Fun() is true (polled every 5 ms), timeout after TimeoutMs.
wait_until(Fun, TimeoutMs) when TimeoutMs > 0 ->
    case Fun() of
        true -> ok;
        false -> timer:sleep(5), wait_until(Fun, TimeoutMs - 5)
    end;
wait_until(_Fun, _) ->
    timeout.
