{
  "targets": [
    {
      "target_name": "ballast_packet",
      "sources": ["speaker/l2/native/addon.cc", "speaker/l2/native/packet_socket.cc", "speaker/l2/native/datagram_socket.cc", "speaker/l2/native/frame_path.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "cflags_cc": ["-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
