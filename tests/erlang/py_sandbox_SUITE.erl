%% The sandbox: no process creation, no exit, no signals from Python, in every context of
%% every pool and mode, and nothing Python can do to lift it.
-module(py_sandbox_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1, init_per_group/2,
         end_per_group/2]).
-export([seed_example/1, process_creation/1, exits_and_signals/1, sys_exit_is_an_error/1,
         cannot_be_lifted_from_python/1, every_pool_and_context/1, sandbox_info/1,
         erlang_ports_still_work/1]).

-define(PROBE, <<"
import os, signal, subprocess, sys

def outcome(code):
    try:
        exec(code, {'os': os, 'signal': signal, 'subprocess': subprocess, 'sys': sys})
        return ('allowed', '')
    except BaseException as e:
        return (type(e).__name__, str(e))
">>).

-define(FORK_OPS, [
    <<"subprocess.run(['ls', '-la'], capture_output=True)">>,
    <<"subprocess.call(['true'])">>,
    <<"subprocess.check_output(['echo', 'hi'])">>,
    <<"subprocess.Popen(['true'])">>,
    <<"os.system('true')">>,
    <<"os.popen('true')">>,
    <<"os.fork()">>,
    <<"os.forkpty()">>,
    <<"os.posix_spawn('/bin/true', ['true'], {})">>,
    <<"os.posix_spawnp('true', ['true'], {})">>,
    <<"os.execv('/bin/true', ['true'])">>,
    <<"os.execvp('true', ['true'])">>,
    <<"os.execl('/bin/true', 'true')">>,
    <<"os.spawnv(os.P_WAIT, '/bin/true', ['true'])">>,
    <<"os.spawnlp(os.P_WAIT, 'true', 'true')">>,
    <<"import _posixsubprocess; _posixsubprocess.fork_exec()">>,
    <<"import pty; pty.fork()">>,
    <<"import multiprocessing; multiprocessing.Process(target=print).start()">>]).

all() ->
    [{group, subinterp}, {group, multi_executor}, every_pool_and_context, sandbox_info,
     erlang_ports_still_work].

groups() ->
    Cases = [seed_example, process_creation, exits_and_signals, sys_exit_is_an_error,
             cannot_be_lifted_from_python],
    [{subinterp, [], Cases}, {multi_executor, [], Cases}].

init_per_suite(Config) ->
    epy_ct:start_with_python_module(Config, sandbox_probe, ?PROBE).

end_per_suite(_Config) ->
    epy_ct:stop().

init_per_group(Mode, Config) ->
    epy_ct:mode_contexts(Mode, [901], Config).

end_per_group(_Mode, Config) ->
    epy_ct:stop_contexts(Config).

ctx(Config) -> hd(?config(ctxs, Config)).

outcome(Ctx, Code) ->
    {ok, {Type, Message}} = py:call(Ctx, sandbox_probe, outcome, [Code]),
    {Type, Message}.

%%% ------------------------------------------------------------------------------------

%% The seed's "Subprocess Support": the call fails, naming the sandbox.
seed_example(Config) ->
    ok = py:exec(ctx(Config), <<"import subprocess">>),
    {error, {'RuntimeError', <<"fork() blocked by sandbox", _/binary>>}} =
        py:exec(ctx(Config), <<"result = subprocess.run([\"ls\", \"-la\"], capture_output=True)">>).

process_creation(Config) ->
    Ctx = ctx(Config),
    [begin
         {<<"RuntimeError">>, Message} = outcome(Ctx, Op),
         case Message of
             <<"fork() blocked by sandbox", _/binary>> -> ok;
             _ -> ct:fail({wrong_message, Op, Message})
         end,
         %% It names the way that works.
         {match, _} = re:run(Message, "Erlang port")
     end || Op <- ?FORK_OPS],
    ok.

exits_and_signals(Config) ->
    Ctx = ctx(Config),
    [{<<"RuntimeError">>, <<_/binary>>} = outcome(Ctx, Op)
     || Op <- [<<"os._exit(0)">>, <<"os.abort()">>, <<"signal.alarm(1)">>,
               <<"signal.setitimer(signal.ITIMER_REAL, 1)">>,
               <<"signal.raise_signal(signal.SIGTERM)">>,
               <<"os.kill(os.getpid(), signal.SIGKILL)">>,
               <<"os.killpg(os.getpgrp(), signal.SIGTERM)">>,
               <<"signal.pthread_kill(0, signal.SIGTERM)">>]],
    [{<<"ValueError">>, <<"Signal handlers not supported", _/binary>>} = outcome(Ctx, Op)
     || Op <- [<<"signal.signal(signal.SIGTERM, print)">>,
               <<"signal.signal(signal.SIGINT, signal.SIG_IGN)">>,
               <<"signal.siginterrupt(signal.SIGTERM, True)">>,
               <<"signal.set_wakeup_fd(-1)">>]],
    %% Asking whether a process exists is harmless.
    {<<"allowed">>, _} = outcome(Ctx, <<"os.kill(os.getpid(), 0)">>),
    %% Still alive, still serving.
    {ok, 2} = py:eval(Ctx, <<"1 + 1">>).

%% sys.exit is an exception like any other: the request fails, the VM and context live.
sys_exit_is_an_error(Config) ->
    Ctx = ctx(Config),
    {error, {'SystemExit', <<"3">>}} = py:exec(Ctx, <<"import sys\nsys.exit(3)">>),
    {error, {'SystemExit', <<"bye">>}} = py:exec(Ctx, <<"import sys\nsys.exit('bye')">>),
    {error, {'SystemExit', _}} = py:exec(Ctx, <<"raise SystemExit">>),
    ok = py:exec(Ctx, <<"import threading, sys\n"
                        "t = threading.Thread(target=sys.exit)\nt.start()\nt.join()\n">>),
    {ok, 3} = py:eval(Ctx, <<"1 + 2">>).

%% Reloading, re-importing or adding audit hooks does not bring anything back.
cannot_be_lifted_from_python(Config) ->
    Ctx = ctx(Config),
    Lift = [<<"import importlib, os; importlib.reload(os)">>,
            <<"import sys; [sys.modules.pop(m, None) for m in ('subprocess', '_posixsubprocess', 'os', 'posix', 'signal', '_signal')]">>,
            <<"import sys; sys.addaudithook(lambda *a: None)">>],
    [{<<"allowed">>, _} = outcome(Ctx, L) || L <- Lift],
    {<<"RuntimeError">>, <<"fork() blocked by sandbox", _/binary>>} =
        outcome(Ctx, <<"import subprocess; subprocess.run(['true'])">>),
    {<<"RuntimeError">>, <<"fork() blocked by sandbox", _/binary>>} =
        outcome(Ctx, <<"import _posixsubprocess; _posixsubprocess.fork_exec()">>),
    {<<"RuntimeError">>, <<"fork() blocked by sandbox", _/binary>>} =
        outcome(Ctx, <<"import os; os.fork()">>),
    {<<"RuntimeError">>, _} = outcome(Ctx, <<"import os; os._exit(1)">>).

every_pool_and_context(_Config) ->
    {ok, _} = py_context_router:start_pool(sandbox_pool, 2, worker),
    try
        Contexts = py_context_router:contexts() ++ py_context_router:contexts(sandbox_pool),
        [{error, {'RuntimeError', <<"fork() blocked by sandbox", _/binary>>}} =
             py:exec(C, <<"import os\nos.system('true')">>) || C <- Contexts],
        %% Routed calls too (the default pool).
        {error, {'RuntimeError', <<"fork() blocked by sandbox", _/binary>>}} =
            py:call(os, system, [<<"true">>])
    after
        py_context_router:stop_pool(sandbox_pool)
    end.

sandbox_info(_Config) ->
    #{enabled := true, blocked := Blocked} = py:sandbox_info(),
    [true = lists:member(Op, Blocked)
     || Op <- [<<"subprocess.Popen">>, <<"os.system">>, <<"os.fork">>, <<"os.exec*">>,
               <<"_posixsubprocess.fork_exec">>, <<"os._exit">>, <<"signal.signal">>]].

%% The alternative the messages name: an Erlang port behind a registered function.
erlang_ports_still_work(_Config) ->
    ok = py:register_function(sandbox_run, fun([Cmd, Args]) ->
        Port = open_port({spawn_executable, Cmd}, [{args, Args}, binary, exit_status]),
        collect(Port, [])
    end),
    {ok, [0, <<"through a port\n">>]} =
        py:eval(<<"list(__import__('erlang').sandbox_run('/bin/echo', ['through a port']))">>),
    py:unregister_function(sandbox_run).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [D | Acc]);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(lists:reverse(Acc))}
    end.
