%% Virtual environments: py:ensure_venv/2,3, py:activate_venv/1, py:deactivate_venv/0,
%% py:venv_info/0. Packages come from wheels the suite builds itself (no network).
-module(py_venv_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0]).
-export([init_per_suite/1]).
-export([end_per_suite/1]).
-export([end_per_testcase/2]).
-export([seed_example/1]).
-export([every_context_sees_the_venv/1]).
-export([deactivation_forgets_venv_modules/1]).
-export([installs_only_when_requirements_change/1]).
-export([failed_install_leaves_nothing_active/1]).
-export([bad_input/1]).
-export([uv_installer/1]).
-export([multi_executor_context/1]).
-export([venv_from_application_env/1]).

all() ->
    [seed_example, every_context_sees_the_venv, deactivation_forgets_venv_modules,
     installs_only_when_requirements_change, failed_install_leaves_nothing_active, bad_input,
     uv_installer, multi_executor_context, venv_from_application_env].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    ok = application:stop(erlang_python).

end_per_testcase(_Case, _Config) ->
    ok = py:deactivate_venv().

%% 000's example, with a requirements file naming a wheel next to it.
seed_example(Config) ->
    Dir = dir(Config, "seed"),
    Wheel = wheel(Dir, "epy_seed_pkg", <<"def answer():\n    return 42\n">>),
    Req = requirements(Dir, [filename:basename(Wheel)]),
    Path = filename:join(Dir, "venv"),
    ok = py:ensure_venv(Path, Req),
    {ok, 42} = py:call(epy_seed_pkg, answer, []),
    PathBin = list_to_binary(Path),
    {ok, #{<<"active">> := true, <<"venv_path">> := PathBin}} = py:venv_info(),
    ok = py:ensure_venv(Path, Req, [{installer, pip}, force]),
    {ok, 42} = py:call(epy_seed_pkg, answer, []),
    ok = py:deactivate_venv(),
    {ok, #{<<"active">> := false}} = py:venv_info(),
    {error, {'ModuleNotFoundError', _}} = py:call(epy_seed_pkg, answer, []),
    ok = py:activate_venv(Path),
    {ok, #{<<"active">> := true, <<"venv_path">> := PathBin}} = py:venv_info(),
    {ok, 42} = py:call(epy_seed_pkg, answer, []).

%% Running pool contexts, explicit contexts and contexts started later all import from
%% the venv; sys.prefix names it; deactivation takes it all back.
every_context_sees_the_venv(Config) ->
    Venv = bare_venv(dir(Config, "every"), [{"epy_every", <<"def where():\n    return __file__\n">>}]),
    Contexts = py_context_router:contexts(),
    Explicit = py:context(1),
    [{error, {'ModuleNotFoundError', _}} = py:call(C, epy_every, where, []) || C <- Contexts],
    ok = py:activate_venv(Venv),
    VenvBin = list_to_binary(Venv),
    [begin
         {ok, File} = py:call(C, epy_every, where, []),
         {match, _} = re:run(File, ["^", VenvBin, "/lib/python.*/site-packages/epy_every.py$"]),
         {ok, VenvBin} = py:eval(C, <<"__import__('sys').prefix">>)
     end || C <- [Explicit | Contexts]],
    %% The standard library still comes first: site-packages never shadow it.
    {ok, true} = py:eval(Explicit, <<"__import__('sys').path.index(v) > __import__('sys').path.index(s)">>,
                         #{v => iolist_to_binary([VenvBin, "/lib/python", minor(), "/site-packages"]),
                           s => stdlib_dir()}),
    {ok, Later} = py_context:start_link(901, auto),
    {ok, _} = py:call(Later, epy_every, where, []),
    ok = py:deactivate_venv(),
    [begin
         {error, {'ModuleNotFoundError', _}} = py:call(C, epy_every, where, []),
         {ok, false} = py:eval(C, <<"__import__('sys').prefix == v">>, #{v => VenvBin})
     end || C <- [Later, Explicit | Contexts]],
    ok = py_context:stop(Later).

%% Switching venvs: a module imported from the first is not the one the second gives.
deactivation_forgets_venv_modules(Config) ->
    One = bare_venv(dir(Config, "one"), [{"epy_which", <<"NAME = 'one'\n">>}]),
    Two = bare_venv(dir(Config, "two"), [{"epy_which", <<"NAME = 'two'\n">>}]),
    Ctx = py:context(1),
    ok = py:activate_venv(One),
    {ok, <<"one">>} = py:eval(Ctx, <<"__import__('epy_which').NAME">>),
    ok = py:activate_venv(Two),
    {ok, <<"two">>} = py:eval(Ctx, <<"__import__('epy_which').NAME">>),
    {ok, 1} = py:eval(Ctx, <<"sum('/epy-venv-' in p for p in __import__('sys').path)">>).

%% The requirements are installed when the venv is new, when the file changed since,
%% or with force (the venv is made anew); otherwise ensure_venv/2 only activates.
installs_only_when_requirements_change(Config) ->
    Dir = dir(Config, "reinstall"),
    One = wheel(Dir, "epy_reinstall", "1.0", <<"VERSION = 'one'\n">>),
    Req = requirements(Dir, [filename:basename(One)]),
    Path = filename:join(Dir, "venv"),
    ok = py:ensure_venv(Path, Req),
    Installed = filename:join([Path, "lib", "python" ++ binary_to_list(minor()), "site-packages",
                               "epy_reinstall.py"]),
    {ok, <<"one">>} = file_version(Installed),
    ok = file:write_file(Installed, <<"VERSION = 'edited'\n">>),
    ok = py:ensure_venv(Path, Req),
    {ok, <<"edited">>} = py:eval(<<"__import__('epy_reinstall').VERSION">>),
    Two = wheel(Dir, "epy_reinstall", "2.0", <<"VERSION = 'two'\n">>),
    Req = requirements(Dir, [filename:basename(Two)]),
    ok = py:ensure_venv(Path, Req),
    {ok, <<"two">>} = file_version(Installed),
    {ok, <<"two">>} = py:eval(<<"__import__('epy_reinstall').VERSION">>),
    ok = file:write_file(Installed, <<"VERSION = 'edited'\n">>),
    ok = py:ensure_venv(Path, Req, [force]),
    {ok, <<"two">>} = file_version(Installed).

failed_install_leaves_nothing_active(Config) ->
    Dir = dir(Config, "failing"),
    Req = requirements(Dir, ["./no_such_package-1.0-py3-none-any.whl"]),
    Path = filename:join(Dir, "venv"),
    {error, {install_failed, Status, Output}} = py:ensure_venv(Path, Req),
    true = is_integer(Status) andalso Status =/= 0,
    {match, _} = re:run(Output, "no_such_package"),
    {ok, #{<<"active">> := false}} = py:venv_info(),
    %% Once the file is right, the same venv is completed.
    Wheel = wheel(Dir, "epy_fixed", <<"OK = True\n">>),
    Req = requirements(Dir, [filename:basename(Wheel)]),
    ok = py:ensure_venv(Path, Req),
    {ok, true} = py:eval(<<"__import__('epy_fixed').OK">>).

bad_input(Config) ->
    Dir = dir(Config, "bad"),
    {error, {badarg, 123}} = py:activate_venv(123),
    {error, {badarg, ""}} = py:activate_venv(""),
    {error, {badarg, _}} = py:activate_venv(<<"a", 0, "b">>),
    NotVenv = list_to_binary(Dir),
    {error, {not_a_venv, NotVenv}} = py:activate_venv(Dir),
    Missing = list_to_binary(filename:join(Dir, "missing")),
    {error, {not_a_venv, Missing}} = py:activate_venv(Missing),
    %% A venv of another Python version.
    Old = filename:join(Dir, "old"),
    ok = filelib:ensure_dir(filename:join([Old, "lib", "python2.7", "site-packages", "x"])),
    ok = file:write_file(filename:join(Old, "pyvenv.cfg"), <<"home = /usr/bin\nversion = 2.7.18\n">>),
    {error, {python_version_mismatch, #{venv := <<"2.7">>, runtime := _}}} = py:activate_venv(Old),
    %% ensure_venv/3: the requirements file and the options are checked before anything.
    Venv = filename:join(Dir, "never"),
    {error, {requirements_not_found, _, enoent}} = py:ensure_venv(Venv, filename:join(Dir, "nope.txt")),
    Req = requirements(Dir, []),
    {error, {badarg, bogus}} = py:ensure_venv(Venv, Req, [bogus]),
    {error, {badarg, {installer, conda}}} = py:ensure_venv(Venv, Req, [{installer, conda}]),
    {error, {badarg, {timeout, -1}}} = py:ensure_venv(Venv, Req, [{timeout, -1}]),
    {error, {badarg, not_a_list}} = py:ensure_venv(Venv, Req, not_a_list),
    false = filelib:is_dir(Venv),
    {ok, #{<<"active">> := false}} = py:venv_info().

%% uv when it is installed; a clear error when it is not.
uv_installer(Config) ->
    Dir = dir(Config, "uv"),
    Wheel = wheel(Dir, "epy_uv_pkg", <<"BY = 'uv'\n">>),
    Req = requirements(Dir, [filename:basename(Wheel)]),
    Path = filename:join(Dir, "venv"),
    case os:find_executable("uv") of
        false ->
            {error, {installer_not_found, uv}} = py:ensure_venv(Path, Req, [{installer, uv}]),
            false = filelib:is_dir(Path);
        _ ->
            ok = py:ensure_venv(Path, Req, [{installer, uv}]),
            {ok, <<"uv">>} = py:eval(<<"__import__('epy_uv_pkg').BY">>)
    end.

%% Executors share one interpreter: activation and deactivation reach it once and for all.
multi_executor_context(Config) ->
    Venv = bare_venv(dir(Config, "executor"), [{"epy_exec_mod", <<"X = 7\n">>}]),
    {ok, A} = py_context:start_link(902, multi_executor),
    {ok, B} = py_context:start_link(903, multi_executor),
    ok = py:activate_venv(Venv),
    {ok, 7} = py:eval(A, <<"__import__('epy_exec_mod').X">>),
    {ok, 7} = py:eval(B, <<"__import__('epy_exec_mod').X">>),
    ok = py:deactivate_venv(),
    {error, {'ModuleNotFoundError', _}} = py:eval(B, <<"__import__('epy_exec_mod').X">>),
    {error, {'ModuleNotFoundError', _}} = py:eval(A, <<"__import__('epy_exec_mod').X">>),
    ok = py_context:stop(A),
    ok = py_context:stop(B).

%% The application's `venv` is activated when it starts; a wrong one stops the start.
venv_from_application_env(Config) ->
    Venv = bare_venv(dir(Config, "appenv"), [{"epy_app_mod", <<"Y = 'app'\n">>}]),
    try
        ok = application:stop(erlang_python),
        ok = application:set_env(erlang_python, venv, Venv),
        {ok, _} = application:ensure_all_started(erlang_python),
        {ok, <<"app">>} = py:eval(<<"__import__('epy_app_mod').Y">>),
        ok = application:stop(erlang_python),
        ok = application:set_env(erlang_python, venv, filename:join(Venv, "nope")),
        {error, {erlang_python, {{venv, {not_a_venv, _}}, _}}} =
            application:ensure_all_started(erlang_python)
    after
        application:unset_env(erlang_python, venv),
        {ok, _} = application:ensure_all_started(erlang_python)
    end,
    {ok, #{<<"active">> := false}} = py:venv_info().

%%% Helpers

dir(Config, Name) ->
    Dir = filename:join(?config(priv_dir, Config), "epy-venv-" ++ Name),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Dir.

minor() ->
    [Major, Minor | _] = binary:split(py:version(), <<".">>, [global]),
    <<Major/binary, ".", Minor/binary>>.

stdlib_dir() ->
    {ok, Dir} = py:eval(<<"__import__('os').path.dirname(__import__('os').__file__)">>),
    Dir.

python() ->
    #{python_home := Home} = py_nif:engine_info(),
    filename:join([Home, "bin", "python" ++ binary_to_list(minor())]).

%% A venv without pip (quick to make), with modules put straight into its site-packages.
bare_venv(Dir, Modules) ->
    Venv = filename:join(Dir, "venv"),
    Port = open_port({spawn_executable, python()},
                     [{args, ["-m", "venv", "--without-pip", Venv]}, exit_status, stderr_to_stdout]),
    0 = wait_exit(Port),
    Site = filename:join([Venv, "lib", "python" ++ binary_to_list(minor()), "site-packages"]),
    [ok = file:write_file(filename:join(Site, Name ++ ".py"), Code) || {Name, Code} <- Modules],
    Venv.

wait_exit(Port) ->
    receive
        {Port, {data, _}} -> wait_exit(Port);
        {Port, {exit_status, Status}} -> Status
    after 120000 -> ct:fail(venv_creation_hangs)
    end.

requirements(Dir, Lines) ->
    Req = filename:join(Dir, "requirements.txt"),
    ok = file:write_file(Req, [[L, "\n"] || L <- Lines]),
    Req.

%% A pure-Python wheel holding one module.
wheel(Dir, Name, Code) ->
    wheel(Dir, Name, "1.0", Code).

wheel(Dir, Name, Version, Code) ->
    DistInfo = Name ++ "-" ++ Version ++ ".dist-info/",
    Files = [{Name ++ ".py", Code},
             {DistInfo ++ "METADATA",
              iolist_to_binary(["Metadata-Version: 2.1\nName: ", Name, "\nVersion: ", Version, "\n"])},
             {DistInfo ++ "WHEEL",
              <<"Wheel-Version: 1.0\nGenerator: py_venv_SUITE\nRoot-Is-Purelib: true\nTag: py3-none-any\n">>}],
    Record = [[F, ",sha256=", record_hash(B), ",", integer_to_list(byte_size(B)), "\n"] || {F, B} <- Files]
             ++ [DistInfo, "RECORD,,\n"],
    Wheel = filename:join(Dir, Name ++ "-" ++ Version ++ "-py3-none-any.whl"),
    {ok, _} = zip:create(Wheel, [{F, B} || {F, B} <- Files ++ [{DistInfo ++ "RECORD", iolist_to_binary(Record)}]]),
    Wheel.

record_hash(Bin) ->
    B64 = base64:encode(crypto:hash(sha256, Bin)),
    binary:replace(binary:replace(binary:replace(B64, <<"+">>, <<"-">>, [global]),
                                  <<"/">>, <<"_">>, [global]),
                   <<"=">>, <<>>, [global]).

file_version(File) ->
    {ok, Bin} = file:read_file(File),
    case re:run(Bin, "VERSION = '([a-z]+)'", [{capture, all_but_first, binary}]) of
        {match, [V]} -> {ok, V};
        nomatch -> {error, Bin}
    end.
