# Packaging of hostiso_exporter: install rules for everything but the binary,
# and CPack settings for a Debian 12 package.
#
# Include from the top-level CMakeLists.txt after the targets are defined:
#     include(packaging/Packaging.cmake)
# then:  cpack -G DEB   (in the build directory)  or  cmake --build . --target package
#
# Layout of the package (the binary comes from the lead's
# install(TARGETS hostiso_exporter RUNTIME DESTINATION bin)):
#   /usr/bin/hostiso_exporter
#   /lib/systemd/system/hostiso-exporter.service
#   /lib/systemd/system/hostiso-exporter.socket        (socket activation, not enabled)
#   /etc/default/hostiso-exporter                      (conffile)
#   /usr/share/hostiso-exporter/dashboards/            (*.json, provisioning/)
#   /usr/share/hostiso-exporter/alerts/                (rules, runbook, alertmanager example)
#   /usr/share/doc/hostiso-exporter/                   (README.md, LICENSE)

set(_hostiso_pkg_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_hostiso_src_dir "${PROJECT_SOURCE_DIR}")

# Absolute destinations on purpose: the unit goes where Debian 12 packages put
# theirs (/lib/systemd/system), and the defaults file to /etc/default,
# whatever CMAKE_INSTALL_PREFIX is.
install(FILES "${_hostiso_pkg_dir}/hostiso-exporter.service"
              "${_hostiso_pkg_dir}/hostiso-exporter.socket"
        DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES "${_hostiso_pkg_dir}/hostiso-exporter.default"
        DESTINATION /etc/default
        RENAME hostiso-exporter
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

if(EXISTS "${_hostiso_src_dir}/dashboards")
  install(DIRECTORY "${_hostiso_src_dir}/dashboards/"
          DESTINATION share/hostiso-exporter/dashboards
          FILES_MATCHING PATTERN "*.json" PATTERN "*.yml" PATTERN "*.yaml" PATTERN "*.md")
endif()
if(EXISTS "${_hostiso_src_dir}/alerts")
  # Rules (hostiso.rules.yml), runbook (*.md), alertmanager.example.yml.
  # Unit-test data of the rules, if kept there, is not installed.
  install(DIRECTORY "${_hostiso_src_dir}/alerts/"
          DESTINATION share/hostiso-exporter/alerts
          FILES_MATCHING PATTERN "*.yml" PATTERN "*.yaml" PATTERN "*.md"
          PATTERN "tests" EXCLUDE PATTERN "test" EXCLUDE)
endif()
# Opt-in systemd drop-in granting the sched collector CAP_BPF+CAP_PERFMON.
install(FILES "${_hostiso_pkg_dir}/hostiso-exporter-sched.conf"
        DESTINATION share/doc/hostiso-exporter/examples
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
foreach(_doc README.md LICENSE COPYING CHANGELOG.md)
  if(EXISTS "${_hostiso_src_dir}/${_doc}")
    install(FILES "${_hostiso_src_dir}/${_doc}" DESTINATION share/doc/hostiso-exporter)
  endif()
endforeach()

# ---------------------------------------------------------------- CPack / DEB
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "hostiso-exporter")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "hostiso_exporter project")
set(CPACK_PACKAGE_CONTACT "hostiso_exporter maintainers <hostiso-exporter@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Prometheus exporter for CPU isolation and headroom of KVM compute hosts")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES TRUE)

set(CPACK_DEBIAN_PACKAGE_NAME "hostiso-exporter")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Long description: CPack puts the summary on the Description: line, indents
# every line of this text by one space and turns empty lines into " .".
set(CPACK_PACKAGE_DESCRIPTION
"hostiso_exporter reports, for OpenStack Nova / libvirt KVM compute hosts,
per-core host/guest/steal CPU time by core role, vCPU run delay, host
intrusion on guest cores, memory and disk headroom against the nova.conf
reservations, and isolation violations.

Ships a hardened systemd unit, Grafana dashboards and Prometheus alert rules
under /usr/share/hostiso-exporter.")
# Runtime library dependencies are computed by dpkg-shlibdeps (dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# passwd: useradd/groupadd/usermod in postinst.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, libvirt-daemon-system")

set(_hostiso_conffiles "${CMAKE_CURRENT_BINARY_DIR}/packaging-control/conffiles")
file(WRITE "${_hostiso_conffiles}" "/etc/default/hostiso-exporter\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${_hostiso_pkg_dir}/postinst;${_hostiso_pkg_dir}/prerm;${_hostiso_pkg_dir}/postrm;${_hostiso_conffiles}")
# Maintainer scripts 0755, conffiles 0644, whatever their mode in the tree.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
