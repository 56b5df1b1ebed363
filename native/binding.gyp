{
  "variables": {
    "bitnet_version": "<!(node -p \"require('./package.json').version\")",
    "common_flags": ["-O3", "-fPIC", "-fno-strict-aliasing", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
  },
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "cflags": ["<@(common_flags)"],
    "include_dirs": ["src"],
    "defines": ["NAPI_VERSION=8", "BITNET_VERSION=\"<(bitnet_version)\""],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "MACOSX_DEPLOYMENT_TARGET": "11.0",
      "OTHER_CFLAGS": ["-O3"]
    },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } }
  },
  "targets": [
    {
      "target_name": "bitnet",
      "sources": ["<!@(node scripts/sources.mjs base)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "libraries": [],
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["bitnet_avx2", "bitnet_avx512", "bitnet_avx512vnni"], "defines": ["BITNET_HAVE_X86_TIERS=1"] }],
        ["target_arch=='arm64'", { "dependencies": ["bitnet_neon"], "defines": ["BITNET_HAVE_NEON_TIER=1"] }],
        ["OS=='linux'", { "libraries": ["-pthread"], "cflags": ["-pthread"] }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "bitnet_avx2",
          "type": "static_library",
          "sources": ["<!@(node scripts/sources.mjs avx2)"],
          "cflags": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-mavx2", "-mfma", "-mf16c"] }
        },
        {
          "target_name": "bitnet_avx512",
          "type": "static_library",
          "sources": ["<!@(node scripts/sources.mjs avx512)"],
          "cflags": ["-Wno-uninitialized", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq"] }
        },
        {
          "target_name": "bitnet_avx512vnni",
          "type": "static_library",
          "sources": ["<!@(node scripts/sources.mjs avx512vnni)"],
          "cflags": ["-Wno-uninitialized", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni"] }
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "bitnet_neon",
          "type": "static_library",
          "sources": ["<!@(node scripts/sources.mjs neon)"]
        }
      ]
    }]
  ]
}
