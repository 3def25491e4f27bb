# Chooses the CPython build to embed, in this order:
#   1. -DPython_ROOT_DIR=<prefix> or the environment variable EPY_PYTHON_ROOT;
#   2. the newest CPython >= 3.12 with a shared libpython under `pyenv root`;
#   3. Debian's python3-dev (/usr).
# Then finds it with FindPython3 and prints which one it chose.
#
# Provides the FindPython3 results plus EPY_PYTHON_ROOT and EPY_PYTHON_HOME (sys.base_prefix,
# which the runtime passes to PyConfig.home).

function(_epy_newest_pyenv_python out_var)
  set(_root "")
  find_program(_pyenv_exe pyenv)
  if(_pyenv_exe)
    execute_process(COMMAND "${_pyenv_exe}" root
                    OUTPUT_VARIABLE _root OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_QUIET)
  endif()
  if(NOT _root AND EXISTS "$ENV{HOME}/.pyenv/versions")
    set(_root "$ENV{HOME}/.pyenv")
  endif()
  set(_best "")
  set(_best_version "0")
  if(_root)
    file(GLOB _candidates LIST_DIRECTORIES true "${_root}/versions/3.*")
    foreach(_dir IN LISTS _candidates)
      get_filename_component(_name "${_dir}" NAME)
      # Plain CPython releases only (skips free-threaded "3.13.0t" and dev builds).
      if(NOT _name MATCHES "^3\\.([0-9]+)\\.([0-9]+)$")
        continue()
      endif()
      set(_minor "${CMAKE_MATCH_1}")
      if(_minor LESS 12 OR NOT EXISTS "${_dir}/lib/libpython3.${_minor}.so")
        continue()
      endif()
      if(_name VERSION_GREATER _best_version)
        set(_best "${_dir}")
        set(_best_version "${_name}")
      endif()
    endforeach()
  endif()
  set(${out_var} "${_best}" PARENT_SCOPE)
endfunction()

set(EPY_PYTHON_ROOT "")
if(Python_ROOT_DIR)
  set(EPY_PYTHON_ROOT "${Python_ROOT_DIR}")
  set(_epy_python_reason "-DPython_ROOT_DIR")
elseif(DEFINED ENV{EPY_PYTHON_ROOT} AND NOT "$ENV{EPY_PYTHON_ROOT}" STREQUAL "")
  set(EPY_PYTHON_ROOT "$ENV{EPY_PYTHON_ROOT}")
  set(_epy_python_reason "EPY_PYTHON_ROOT")
else()
  _epy_newest_pyenv_python(EPY_PYTHON_ROOT)
  set(_epy_python_reason "newest pyenv CPython >= 3.12")
  if(NOT EPY_PYTHON_ROOT)
    set(EPY_PYTHON_ROOT "/usr")
    set(_epy_python_reason "Debian python3-dev")
  endif()
endif()

set(Python3_ROOT_DIR "${EPY_PYTHON_ROOT}")
set(Python3_FIND_STRATEGY LOCATION)
set(Python3_FIND_VIRTUALENV NEVER)
set(Python3_FIND_UNVERSIONED_NAMES FIRST)
find_package(Python3 3.11 REQUIRED COMPONENTS Interpreter Development.Embed)

execute_process(
  COMMAND "${Python3_EXECUTABLE}" -c "import sys; print(sys.base_prefix)"
  OUTPUT_VARIABLE EPY_PYTHON_HOME OUTPUT_STRIP_TRAILING_WHITESPACE)

message(STATUS "erlang_python: embedding CPython ${Python3_VERSION} "
               "(${_epy_python_reason}): ${Python3_EXECUTABLE}, home ${EPY_PYTHON_HOME}")
