//! skylink-sdp (being written)
