# Links gRPC, protobuf and Abseil statically (Debian ships both forms).
#
# Why: every kvctl call, kvharness command and kvnode start otherwise spends
# most of its start-up in the dynamic loader, resolving the symbols of some
# 60 shared libraries (kvctl put: 34 ms of CPU dynamic, 18 ms static). The
# integration tests and scenarios start hundreds of these processes.
#
# All three or none: gRPC's archives use Abseil and protobuf, and one
# program must hold one copy of each. The libraries left shared (RocksDB,
# xxHash, hiredis, GoogleTest, Google Benchmark) use none of them.
# Sanitizer builds stay dynamic: ThreadSanitizer's suppressions name the
# shared libraries it cannot see into.

# The archive beside a shared library's path, or "" if there is none.
function(qkv_archive_of path out)
  set(${out} "" PARENT_SCOPE)
  if(path MATCHES "^(.*)\\.so(\\.[0-9.]+)?$")
    if(EXISTS "${CMAKE_MATCH_1}.a")
      set(${out} "${CMAKE_MATCH_1}.a" PARENT_SCOPE)
    endif()
  endif()
endfunction()

# Points an imported target's locations at its archive.
function(qkv_make_static target)
  foreach(property IMPORTED_LOCATION IMPORTED_LOCATION_NONE IMPORTED_LOCATION_RELEASE
                   IMPORTED_LOCATION_DEBUG)
    get_target_property(location ${target} ${property})
    if(location)
      qkv_archive_of("${location}" archive)
      if(NOT archive)
        message(FATAL_ERROR "QKV_STATIC_DEPS: no archive beside ${location} (${target})")
      endif()
      set_target_properties(${target} PROPERTIES ${property} "${archive}")
    endif()
  endforeach()
endfunction()

get_property(imported DIRECTORY PROPERTY IMPORTED_TARGETS)
foreach(target IN LISTS imported)
  if(target MATCHES "^absl::")
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "SHARED_LIBRARY")
      qkv_make_static(${target})
    endif()
  endif()
endforeach()
qkv_make_static(protobuf::libprotobuf)

# gRPC's pkg-config target lists shared libraries by path: their archives
# instead (librt.a and -latomic stay as they are).
get_target_property(grpc_libraries PkgConfig::GRPCPP INTERFACE_LINK_LIBRARIES)
set(static_libraries)
foreach(library IN LISTS grpc_libraries)
  qkv_archive_of("${library}" archive)
  if(archive)
    list(APPEND static_libraries "${archive}")
  elseif(library MATCHES "\\.so")
    message(FATAL_ERROR "QKV_STATIC_DEPS: no archive beside ${library} (gRPC)")
  else()
    list(APPEND static_libraries "${library}")
  endif()
endforeach()
set_target_properties(PkgConfig::GRPCPP PROPERTIES INTERFACE_LINK_LIBRARIES "${static_libraries}")

find_library(QKV_GRPC_REFLECTION_ARCHIVE libgrpc++_reflection.a REQUIRED)
set(QKV_GRPC_REFLECTION ${QKV_GRPC_REFLECTION_ARCHIVE})
