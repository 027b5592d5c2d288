# The sched collector's BPF programs, built with the host's tools:
#   vmlinux.h  <- bpftool btf dump file /sys/kernel/btf/vmlinux format c
#   sched.bpf.o <- clang -target bpf -g -O2 (CO-RE: runs on other kernels)
#   sched.skel.h <- bpftool gen skeleton (the object embedded in the exporter)
# -DHOSTISO_SCHED_BPF=OFF (or a missing tool) builds the exporter without
# them: the collector then reports why at every scrape (success 0).
option(HOSTISO_SCHED_BPF "Build the eBPF programs of the sched collector" ON)
set(HOSTISO_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "Kernel BTF that vmlinux.h is generated from")

set(_sched_missing "")
if(HOSTISO_SCHED_BPF)
  find_program(HOSTISO_BPF_CLANG NAMES clang clang-14)
  find_program(HOSTISO_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin)
  pkg_check_modules(LIBBPF IMPORTED_TARGET libbpf)
  if(NOT HOSTISO_BPF_CLANG)
    list(APPEND _sched_missing "clang")
  endif()
  if(NOT HOSTISO_BPFTOOL)
    list(APPEND _sched_missing "bpftool")
  endif()
  if(NOT LIBBPF_FOUND)
    list(APPEND _sched_missing "libbpf (libbpf-dev)")
  endif()
  if(NOT EXISTS ${HOSTISO_VMLINUX_BTF})
    list(APPEND _sched_missing "kernel BTF ${HOSTISO_VMLINUX_BTF}")
  endif()
  if(_sched_missing)
    message(WARNING "sched collector built WITHOUT BPF: missing ${_sched_missing} "
      "(scripts/install-deps.sh installs the tools; -DHOSTISO_SCHED_BPF=OFF silences this)")
    set(HOSTISO_SCHED_BPF OFF CACHE BOOL "" FORCE)
  endif()
endif()

if(HOSTISO_SCHED_BPF)
  set(_sched_out ${CMAKE_CURRENT_BINARY_DIR}/sched)
  set(_sched_src ${CMAKE_CURRENT_SOURCE_DIR}/sched)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set(_bpf_arch x86)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set(_bpf_arch arm64)
  else()
    set(_bpf_arch ${CMAKE_SYSTEM_PROCESSOR})
  endif()
  set(_bpf_cflags -g -O2 -target bpf -D__TARGET_ARCH_${_bpf_arch} -Wall -Werror
    -I${_sched_out} -I${_sched_src})
  # Once at configure time too: proves the tools work here (else the collector
  # is built without BPF, with the reason), and gives configure-only trees
  # (scripts/lint.sh's clang-tidy) the skeleton header. The custom commands
  # below rebuild it when the program changes.
  if(NOT EXISTS ${_sched_out}/sched.skel.h)
    file(MAKE_DIRECTORY ${_sched_out})
    execute_process(
      COMMAND ${HOSTISO_BPFTOOL} btf dump file ${HOSTISO_VMLINUX_BTF} format c
      OUTPUT_FILE ${_sched_out}/vmlinux.h RESULT_VARIABLE _r1 ERROR_VARIABLE _e1)
    if(_r1 EQUAL 0)
      execute_process(
        COMMAND ${HOSTISO_BPF_CLANG} ${_bpf_cflags} -c ${_sched_src}/sched.bpf.c
          -o ${_sched_out}/sched.bpf.o
        RESULT_VARIABLE _r1 ERROR_VARIABLE _e1)
    endif()
    if(_r1 EQUAL 0)
      execute_process(
        COMMAND ${HOSTISO_BPFTOOL} gen skeleton ${_sched_out}/sched.bpf.o name hostiso_sched
        OUTPUT_FILE ${_sched_out}/sched.skel.h RESULT_VARIABLE _r1 ERROR_VARIABLE _e1)
    endif()
    if(NOT _r1 EQUAL 0)
      file(REMOVE ${_sched_out}/sched.skel.h)
      message(WARNING "sched collector built WITHOUT BPF: generating its skeleton failed: ${_e1}")
      set(HOSTISO_SCHED_BPF OFF CACHE BOOL "" FORCE)
    endif()
  endif()
endif()

if(HOSTISO_SCHED_BPF)
  add_custom_command(OUTPUT ${_sched_out}/vmlinux.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_sched_out}
    COMMAND ${HOSTISO_BPFTOOL} btf dump file ${HOSTISO_VMLINUX_BTF} format c
      > ${_sched_out}/vmlinux.h
    COMMENT "Generating vmlinux.h from ${HOSTISO_VMLINUX_BTF}")
  add_custom_command(OUTPUT ${_sched_out}/sched.bpf.o
    COMMAND ${HOSTISO_BPF_CLANG} ${_bpf_cflags}
      -c ${_sched_src}/sched.bpf.c -o ${_sched_out}/sched.bpf.o
    DEPENDS ${_sched_src}/sched.bpf.c ${_sched_src}/sched_abi.h ${_sched_out}/vmlinux.h
    COMMENT "Compiling the sched BPF programs")
  add_custom_command(OUTPUT ${_sched_out}/sched.skel.h
    COMMAND ${HOSTISO_BPFTOOL} gen skeleton ${_sched_out}/sched.bpf.o name hostiso_sched
      > ${_sched_out}/sched.skel.h
    DEPENDS ${_sched_out}/sched.bpf.o
    COMMENT "Generating the sched BPF skeleton")
  add_custom_target(hostiso_sched_skeleton DEPENDS ${_sched_out}/sched.skel.h)
  add_dependencies(hostiso_metrics hostiso_sched_skeleton)
  # SYSTEM: the generated skeleton is not ours to lint.
  target_include_directories(hostiso_metrics SYSTEM PRIVATE ${_sched_out})
  target_compile_definitions(hostiso_metrics PRIVATE HOSTISO_HAVE_SCHED_BPF=1)
  target_link_libraries(hostiso_metrics PUBLIC PkgConfig::LIBBPF)
else()
  target_compile_definitions(hostiso_metrics PRIVATE HOSTISO_HAVE_SCHED_BPF=0)
endif()
