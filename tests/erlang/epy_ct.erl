%% Helpers shared by the suites: starting the application with a Python module of the
%% suite's own on every context's path, contexts per execution mode, waiting for a
%% condition, and what this OS process holds (threads, descriptors, memory).
-module(epy_ct).
-include_lib("common_test/include/ct.hrl").

-export([start_with_python_module/3]).
-export([stop/0]).
-export([mode_contexts/3]).
-export([stop_contexts/1]).
-export([wait_until/2]).
-export([flush/0]).
-export([threads/0]).
-export([wait_for_threads/1]).
-export([descriptors/0]).
-export([rss_kb/0]).
-export([thread_nice/1]).

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

%% Drops every message in the caller's mailbox.
flush() ->
    receive _ -> flush() after 0 -> ok end.

%% OS threads of this VM.
threads() ->
    {ok, Names} = file:list_dir("/proc/self/task"),
    length(Names).

%% Context threads end just after they report so: ok once the VM is back to Expected
%% threads (fails after 60 s).
wait_for_threads(Expected) ->
    case wait_until(fun() -> threads() =:= Expected end, 60000) of
        ok -> ok;
        timeout -> Expected = threads()
    end.

%% Open descriptors of this VM.
descriptors() ->
    length(element(2, file:list_dir("/proc/self/fd"))).

rss_kb() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Status, "VmRSS:\\s+(\\d+)", [{capture, all_but_first, binary}]),
    binary_to_integer(Kb).

%% The nice value of a thread of this VM (field 19 of its stat line; the command name,
%% field 2, may hold spaces: fields are counted after its closing parenthesis).
thread_nice(Tid) ->
    {ok, Stat} = file:read_file(io_lib:format("/proc/self/task/~w/stat", [Tid])),
    [_, AfterName] = binary:split(Stat, <<") ">>),
    Fields = binary:split(AfterName, <<" ">>, [global]),
    binary_to_integer(lists:nth(19 - 2, Fields)).
