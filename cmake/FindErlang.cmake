# Finds an Erlang/OTP installation: erl, erlc, ct_run and the erl_nif.h headers.
#
# Provides: Erlang_FOUND, Erlang_ROOT_DIR, Erlang_OTP_RELEASE, Erlang_NIF_INCLUDE_DIR,
#           Erlang_ERL, Erlang_ERLC, Erlang_CT_RUN.

find_program(Erlang_ERL NAMES erl)
find_program(Erlang_ERLC NAMES erlc)
find_program(Erlang_CT_RUN NAMES ct_run)

if(Erlang_ERL)
  execute_process(
    COMMAND "${Erlang_ERL}" -noshell -eval
            "io:format(\"~s;~s\", [code:root_dir(), erlang:system_info(otp_release)])"
            -s init stop
    OUTPUT_VARIABLE _erl_out
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  list(GET _erl_out 0 Erlang_ROOT_DIR)
  list(GET _erl_out 1 Erlang_OTP_RELEASE)
  file(GLOB _erts_includes "${Erlang_ROOT_DIR}/erts-*/include/erl_nif.h")
  if(_erts_includes)
    list(SORT _erts_includes)
    list(GET _erts_includes -1 _nif_header)
    get_filename_component(Erlang_NIF_INCLUDE_DIR "${_nif_header}" DIRECTORY)
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Erlang
  REQUIRED_VARS Erlang_ERL Erlang_ERLC Erlang_NIF_INCLUDE_DIR
  VERSION_VAR Erlang_OTP_RELEASE)
