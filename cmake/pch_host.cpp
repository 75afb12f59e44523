// The target that owns the one precompiled header every other target reuses (CMakeLists.txt).
