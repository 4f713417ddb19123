# Every dependency comes from a Debian package and is found here; nothing is downloaded.
# A missing one stops configuration with the package to install.
find_package(PkgConfig REQUIRED)

function(mcpcell_missing what debian_package)
  message(FATAL_ERROR "mcpcell: ${what} not found. Install it with: "
                      "sudo apt-get install ${debian_package}  (or run scripts/setup.sh)")
endfunction()

pkg_check_modules(SECCOMP IMPORTED_TARGET libseccomp)
if(NOT SECCOMP_FOUND)
  mcpcell_missing("libseccomp" "libseccomp-dev")
endif()

pkg_check_modules(LIBCAP IMPORTED_TARGET libcap)
if(NOT LIBCAP_FOUND)
  mcpcell_missing("libcap" "libcap-dev")
endif()

find_package(nlohmann_json 3.9 QUIET)
if(NOT nlohmann_json_FOUND)
  mcpcell_missing("nlohmann/json" "nlohmann-json3-dev")
endif()

# Static: mcpcell uses only SHA-256 from libcrypto, and the shared library alone keeps ~1.5 MB
# resident in every session (relocations and start-up code), a sixth of the relay's memory budget.
# Debian's libssl-dev ships the archive.
set(OPENSSL_USE_STATIC_LIBS TRUE)
find_package(OpenSSL QUIET)
if(NOT OPENSSL_FOUND)
  mcpcell_missing("OpenSSL" "libssl-dev")
endif()

pkg_check_modules(RE2 IMPORTED_TARGET re2)
if(NOT RE2_FOUND)
  mcpcell_missing("RE2" "libre2-dev")
endif()

# Hyperscan and Vectorscan install the same pkg-config name (libhs) and headers (hs/hs.h).
pkg_check_modules(HS IMPORTED_TARGET libhs)
if(NOT HS_FOUND)
  mcpcell_missing("Hyperscan/Vectorscan" "libhyperscan-dev (or libvectorscan-dev)")
endif()

find_package(Threads REQUIRED)

if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    mcpcell_missing("GoogleTest" "libgtest-dev")
  endif()
endif()
