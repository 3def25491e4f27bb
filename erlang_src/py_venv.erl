%% @doc Virtual environments: the packages of one venv, seen by every context.
%%
%% activate/1 makes a venv made for the embedded Python (same major.minor version) the
%% one every context imports from: its site-packages go on each interpreter's sys.path
%% (after the standard library, .pth files processed) and sys.prefix names it. It takes
%% effect for every request that starts after activate/1 returns, in running contexts
%% and in contexts started later. deactivate/0 takes it back; the modules imported from
%% the venv are forgotten, so importing them again finds them anew (or fails). Every
%% activation does the same, even of the venv already active: what was installed since
%% is what the next import finds.
%%
%% ensure/2,3 creates the venv when it is missing (with the embedded Python's own
%% `-m venv`), installs a requirements file into it (pip, or uv when asked) when the
%% venv is new or the file changed since the last install, and activates it. The
%% installer runs as an OS process, never inside the VM's Python.
%% @private
-module(py_venv).

-export([ensure/2]).
-export([ensure/3]).
-export([activate/1]).
-export([deactivate/0]).
-export([info/0]).
-export([activate_from_env/0]).

%% The requirements' digest (and installer) of the last successful install.
-define(MARKER, ".erlang_python_requirements").
-define(DEFAULT_TIMEOUT, 600000).
-define(OUTPUT_LIMIT, 65536).

-type option() :: {installer, pip | uv} | force | {force, boolean()} | {timeout, timeout()}.
-export_type([option/0]).

-spec ensure(file:name_all(), file:name_all()) -> ok | {error, term()}.
ensure(Venv, Requirements) ->
    ensure(Venv, Requirements, []).

-spec ensure(file:name_all(), file:name_all(), [option()]) -> ok | {error, term()}.
ensure(Venv0, Requirements0, Opts0) ->
    maybe_all([fun() -> path(Venv0) end,
               fun() -> requirements(Requirements0) end,
               fun() -> options(Opts0) end],
              fun([Venv, Requirements, Opts]) ->
                  %% Two callers ensuring the same venv at once: one after the other.
                  global:trans({{?MODULE, Venv}, self()},
                               fun() -> ensure_locked(Venv, Requirements, Opts) end,
                               [node()], infinity)
              end).

-spec activate(file:name_all()) -> ok | {error, term()}.
activate(Venv0) ->
    case path(Venv0) of
        {ok, Venv} ->
            case site_dirs(Venv) of
                {ok, Dirs} -> py_nif:set_venv(Venv, Dirs);
                Error -> Error
            end;
        Error ->
            Error
    end.

-spec deactivate() -> ok.
deactivate() ->
    py_nif:set_venv(undefined, []).

-spec info() -> {ok, map()}.
info() ->
    case py_nif:venv() of
        undefined ->
            {ok, #{<<"active">> => false}};
        {Venv, Dirs} ->
            {ok, #{<<"active">> => true,
                   <<"venv_path">> => Venv,
                   <<"site_packages">> => Dirs,
                   <<"python_version">> => major_minor(py:version())}}
    end.

%% At application start: the application's `venv` (a path), or none.
-spec activate_from_env() -> ok | {error, term()}.
activate_from_env() ->
    case application:get_env(erlang_python, venv) of
        undefined -> deactivate();
        {ok, Venv} -> activate(Venv)
    end.

%%% ------------------------------------------------------------------------------------
%%% ensure
%%% ------------------------------------------------------------------------------------

ensure_locked(Venv, Requirements, #{installer := Installer, force := Force} = Opts) ->
    Exists = filelib:is_regular(filename:join(Venv, "pyvenv.cfg")),
    maybe_all([fun() -> installer(Installer) end,
               fun() -> digest(Requirements, Installer) end],
              fun([InstallerExe, Digest]) ->
                  Steps = [fun() -> create(Venv, Installer, Exists, Force, Opts) end,
                           fun() -> install(Venv, Requirements, InstallerExe, Digest,
                                            Exists andalso not Force, Opts) end,
                           fun() -> activate(Venv) end],
                  run_steps(Steps)
              end).

run_steps([]) -> ok;
run_steps([Step | Rest]) ->
    case Step() of
        ok -> run_steps(Rest);
        Error -> Error
    end.

create(_Venv, _Installer, true, false, _Opts) ->
    ok;
create(Venv, Installer, _Exists, Force, Opts) ->
    Args = ["-m", "venv"] ++ ["--clear" || Force] ++ ["--without-pip" || Installer =:= uv]
           ++ [Venv],
    case run(python_executable(), Args, Opts) of
        {0, _} -> ok;
        {timeout, Output} -> {error, {timeout, venv, Output}};
        {Status, Output} -> {error, {venv_create_failed, Status, Output}}
    end.

install(Venv, Requirements, InstallerExe, Digest, Kept, Opts) ->
    Marker = filename:join(Venv, ?MARKER),
    case Kept andalso file:read_file(Marker) =:= {ok, Digest} of
        true ->
            ok;  % installed from this very file already
        false ->
            _ = file:delete(Marker),
            {Exe, Args} = install_command(Venv, Requirements, InstallerExe),
            %% Relative paths in a requirements file are relative to the file.
            case run(Exe, Args, Opts#{cd => filename:dirname(Requirements)}) of
                {0, _} -> file:write_file(Marker, Digest);
                {timeout, Output} -> {error, {timeout, install, Output}};
                {Status, Output} -> {error, {install_failed, Status, Output}}
            end
    end.

install_command(Venv, Requirements, pip) ->
    {venv_python(Venv),
     ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", Requirements]};
install_command(Venv, Requirements, UvExe) ->
    {UvExe, ["pip", "install", "--python", venv_python(Venv), "-r", Requirements]}.

installer(pip) -> {ok, pip};
installer(uv) ->
    case os:find_executable("uv") of
        false -> {error, {installer_not_found, uv}};
        Exe -> {ok, Exe}
    end.

digest(Requirements, Installer) ->
    case file:read_file(Requirements) of
        {ok, Bin} ->
            Hash = binary:encode_hex(erlang:md5(Bin)),  % a change check, not a security one
            {ok, <<(atom_to_binary(Installer))/binary, " ", Hash/binary, "\n">>};
        {error, Reason} ->
            {error, {requirements_not_found, Requirements, Reason}}
    end.

%% Runs Exe with Args (in Opts' cd, if any); {ExitStatus | timeout, Output} (the output's
%% last 64 KB).
run(false, _Args, _Opts) ->
    {not_found, <<"no python executable found for the embedded Python">>};
run(Exe, Args, #{timeout := Timeout} = Opts) ->
    Cd = [{cd, Dir} || Dir <- [maps:get(cd, Opts, undefined)], Dir =/= undefined],
    try open_port({spawn_executable, Exe},
                  [{args, Args}, exit_status, stderr_to_stdout, binary, hide,
                   {env, [{"PIP_DISABLE_PIP_VERSION_CHECK", "1"}, {"PYTHONHOME", false},
                          {"PYTHONPATH", false}, {"VIRTUAL_ENV", false}]} | Cd]) of
        Port ->
            Deadline = case Timeout of
                           infinity -> infinity;
                           _ -> erlang:monotonic_time(millisecond) + Timeout
                       end,
            collect(Port, Deadline, <<>>)
    catch
        error:Reason -> {cannot_run, iolist_to_binary(io_lib:format("~ts: ~p", [Exe, Reason]))}
    end.

collect(Port, Deadline, Acc) ->
    Wait = case Deadline of
               infinity -> infinity;
               _ -> max(0, Deadline - erlang:monotonic_time(millisecond))
           end,
    receive
        {Port, {data, Data}} -> collect(Port, Deadline, keep_tail(<<Acc/binary, Data/binary>>));
        {Port, {exit_status, Status}} -> {Status, Acc}
    after Wait ->
        case erlang:port_info(Port, os_pid) of
            {os_pid, OsPid} -> os:cmd("kill -KILL " ++ integer_to_list(OsPid));
            undefined -> ok
        end,
        catch port_close(Port),
        receive {Port, {exit_status, _}} -> ok after 0 -> ok end,
        {timeout, Acc}
    end.

keep_tail(Bin) when byte_size(Bin) =< ?OUTPUT_LIMIT -> Bin;
keep_tail(Bin) -> binary:part(Bin, byte_size(Bin), -?OUTPUT_LIMIT).

%% The embedded Python's own executable (a venv must be made by the same version).
python_executable() ->
    #{python_home := Home} = py_nif:engine_info(),
    Bin = filename:join(Home, "bin"),
    Candidates = [filename:join(Bin, "python" ++ binary_to_list(major_minor(py:version()))),
                  filename:join(Bin, "python3")],
    case [C || C <- Candidates, filelib:is_regular(C)] of
        [Python | _] -> Python;
        [] -> os:find_executable("python3")
    end.

venv_python(Venv) ->
    filename:join([Venv, "bin", "python"]).

%%% ------------------------------------------------------------------------------------
%%% Checks
%%% ------------------------------------------------------------------------------------

%% An absolute path, as a binary.
path(Name) ->
    try unicode:characters_to_binary(Name) of
        Bin when is_binary(Bin), Bin =/= <<>> ->
            case binary:match(Bin, <<0>>) of
                nomatch -> {ok, filename:absname(Bin)};
                _ -> {error, {badarg, Name}}
            end;
        _ -> {error, {badarg, Name}}
    catch
        error:_ -> {error, {badarg, Name}}
    end.

requirements(Name) ->
    case path(Name) of
        {ok, Path} ->
            case filelib:is_regular(Path) of
                true -> {ok, Path};
                false -> {error, {requirements_not_found, Path, enoent}}
            end;
        Error ->
            Error
    end.

options(Opts) when is_list(Opts) ->
    options(Opts, #{installer => pip, force => false, timeout => ?DEFAULT_TIMEOUT});
options(Opts) ->
    {error, {badarg, Opts}}.

options([], Acc) -> {ok, Acc};
options([{installer, I} | Rest], Acc) when I =:= pip; I =:= uv -> options(Rest, Acc#{installer => I});
options([force | Rest], Acc) -> options(Rest, Acc#{force => true});
options([{force, F} | Rest], Acc) when is_boolean(F) -> options(Rest, Acc#{force => F});
options([{timeout, T} | Rest], Acc) when T =:= infinity; is_integer(T), T > 0 ->
    options(Rest, Acc#{timeout => T});
options([Bad | _], _Acc) -> {error, {badarg, Bad}}.

%% The venv's site-packages, if it is a venv of the embedded Python's version.
site_dirs(Venv) ->
    case file:read_file(filename:join(Venv, "pyvenv.cfg")) of
        {ok, Cfg} ->
            Runtime = major_minor(py:version()),
            case cfg_version(Cfg) of
                undefined ->
                    {error, {not_a_venv, Venv}};
                Runtime ->
                    Dir = filename:join([Venv, "lib", <<"python", Runtime/binary>>, "site-packages"]),
                    case filelib:is_dir(Dir) of
                        true -> {ok, [Dir]};
                        false -> {error, {not_a_venv, Venv}}
                    end;
                Other ->
                    {error, {python_version_mismatch, #{venv => Other, runtime => Runtime}}}
            end;
        {error, _} ->
            {error, {not_a_venv, Venv}}
    end.

%% "version = 3.12.1" (python -m venv) or "version_info = 3.12.1" (uv) -> <<"3.12">>
cfg_version(Cfg) ->
    Lines = binary:split(Cfg, [<<"\n">>, <<"\r">>], [global, trim_all]),
    Versions = [major_minor(string:trim(V))
                || Line <- Lines,
                   [K, V] <- [binary:split(Line, <<"=">>)],
                   lists:member(string:trim(K), [<<"version">>, <<"version_info">>])],
    case Versions of
        [Version | _] -> Version;
        [] -> undefined
    end.

major_minor(Version) ->
    case binary:split(Version, <<".">>, [global]) of
        [Major, Minor | _] -> <<Major/binary, ".", Minor/binary>>;
        _ -> Version
    end.

%% Runs the checks in order, stopping at the first error; Then(Values) on success.
maybe_all(Checks, Then) ->
    maybe_all(Checks, [], Then).

maybe_all([], Acc, Then) -> Then(lists:reverse(Acc));
maybe_all([Check | Rest], Acc, Then) ->
    case Check() of
        {ok, Value} -> maybe_all(Rest, [Value | Acc], Then);
        Error -> Error
    end.
