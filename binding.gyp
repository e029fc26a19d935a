{
  "targets": [
    {
      "target_name": "ballast_packet",
      "sources": ["speaker/l2/native/packet_socket.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "cflags_cc": ["-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
