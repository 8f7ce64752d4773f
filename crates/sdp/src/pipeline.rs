//! The three pipelines of spec §1.1: [`local`], [`output`] and [`remote`].

use crate::model::{Sdp, SdpError};
use crate::munge::{self, ConnectionParams, RenderParams, SdpDirection, SdpSessions, SdpType};
use crate::parse;
use crate::settings::SdpSettings;
use serde::{Deserialize, Serialize};

/// What the pipelines know about the remote peer, plus the per-peer records they maintain
/// (`sdpSessions[peer]`, `remoteStreamId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PeerContext {
    /// The peer id (`MCU` is the Skylink MCU).
    pub peer_id: String,
    /// The peer's agent name (`chrome`, `firefox`, …).
    pub agent: String,
    /// The peer advertised `enableIceTrickle` (default `true`).
    pub enable_ice_trickle: bool,
    /// Truthiness of the peer info `settings.audio` (only read when an MCU is present).
    pub settings_audio: bool,
    /// Truthiness of the peer info `settings.video` (only read when an MCU is present).
    pub settings_video: bool,
    /// `sdpSessions[peer]`, updated by the connection step.
    pub sessions: SdpSessions,
    /// `remoteStreamId`, updated by [`remote`] (§1.12).
    pub remote_stream_id: Option<String>,
}

impl Default for PeerContext {
    fn default() -> Self {
        PeerContext {
            peer_id: "peer1".to_owned(),
            agent: "chrome".to_owned(),
            enable_ice_trickle: true,
            settings_audio: true,
            settings_video: true,
            sessions: SdpSessions::default(),
            remote_stream_id: None,
        }
    }
}

impl PeerContext {
    /// A context for `peer_id` with agent `agent` (trickle on, no records yet).
    pub fn new(peer_id: impl Into<String>, agent: impl Into<String>) -> Self {
        PeerContext {
            peer_id: peer_id.into(),
            agent: agent.into(),
            ..PeerContext::default()
        }
    }

    fn connection_params(
        &self,
        settings: &SdpSettings,
        direction: SdpDirection,
        sdp_type: SdpType,
        common: (bool, bool),
    ) -> ConnectionParams<'_> {
        ConnectionParams {
            direction,
            sdp_type,
            connection: settings.sdp_settings.connection,
            directions: settings.sdp_settings.direction,
            bundle_policy: settings.peer_connection.bundle_policy,
            peer_id: &self.peer_id,
            peer_agent: &self.agent,
            peer_ice_trickle: self.enable_ice_trickle,
            has_mcu: settings.has_mcu,
            peer_settings_audio: self.settings_audio,
            peer_settings_video: self.settings_video,
            common_codecs: common,
            local_connection: self.sessions.local.as_ref().map(|r| r.connection.clone()),
        }
    }

    /// Records what our local offer would have been: an audio + video `a=sendrecv` offer
    /// munged with `settings` (used when a remote answer arrives without a recorded offer,
    /// e.g. by the CLI).
    pub fn assume_local_offer(&mut self, settings: &SdpSettings) {
        let mut sdp = Sdp {
            lines: [
                "v=0",
                "o=- 0 2 IN IP4 127.0.0.1",
                "s=-",
                "t=0 0",
                "m=audio 9 UDP/TLS/RTP/SAVPF 111",
                "a=mid:0",
                "a=sendrecv",
                "a=rtpmap:111 opus/48000/2",
                "m=video 9 UDP/TLS/RTP/SAVPF 96",
                "a=mid:1",
                "a=sendrecv",
                "a=rtpmap:96 VP8/90000",
                "",
            ]
            .iter()
            .map(|s| std::borrow::Cow::Borrowed(*s))
            .collect(),
        };
        let p = self.connection_params(settings, SdpDirection::Local, SdpType::Offer, (true, true));
        let rec = munge::handle_connection_settings(&mut sdp, &p);
        self.sessions.local = Some(rec);
    }
}

/// Local pipeline (§1.1, steps 1–6) on a parsed description.
pub fn local_sdp(sdp: &mut Sdp, ty: SdpType, settings: &SdpSettings, peer: &mut PeerContext) {
    munge::remove_firefox_h264_pref(sdp);
    munge::set_codec_params(sdp, settings);
    munge::remove_unknown_apt_rtx(sdp);
    munge::remove_codecs(sdp, settings);
    let p = peer.connection_params(settings, SdpDirection::Local, ty, (true, true));
    let rec = munge::handle_connection_settings(sdp, &p);
    peer.sessions.local = Some(rec);
    if settings.disable_remb {
        munge::remove_remb(sdp);
    }
}

/// Munges a description we created, before `setLocalDescription` (§1.1 local steps 1–6).
/// Updates `peer.sessions.local`.
pub fn local(
    sdp: &str,
    ty: SdpType,
    settings: &SdpSettings,
    peer: &mut PeerContext,
) -> Result<String, SdpError> {
    let mut s = Sdp::parse(sdp)?;
    local_sdp(&mut s, ty, settings, peer);
    Ok(s.to_text())
}

/// Output renderer (§1.11) on a parsed description.
pub fn output_sdp(sdp: &mut Sdp, ty: SdpType, settings: &SdpSettings, peer: &PeerContext) {
    let p = RenderParams {
        sdp_type: Some(ty),
        enable_ice_trickle: settings.enable_ice_trickle,
        local_stream_id: settings.local_stream_id.as_deref(),
        bundle_policy: settings.peer_connection.bundle_policy,
        remote_record: peer.sessions.remote.as_ref(),
    };
    munge::render_output(sdp, &p);
}

/// Renders a (locally munged) description for sending in an `offer`/`answer` message (§1.11).
/// For answers the m-line restoration uses `peer.sessions.remote` when present.
pub fn output(
    sdp: &str,
    ty: SdpType,
    settings: &SdpSettings,
    peer: &PeerContext,
) -> Result<String, SdpError> {
    let mut s = Sdp::parse(sdp)?;
    output_sdp(&mut s, ty, settings, peer);
    Ok(s.to_text())
}

/// Remote pipeline (§1.1 remote steps 0–8 and §1.12) on a parsed description.
pub fn remote_sdp(sdp: &mut Sdp, ty: SdpType, settings: &SdpSettings, peer: &mut PeerContext) {
    // Step 0 (CRLF normalisation with an MCU) is done by `Sdp::parse` for every input.
    let filter = settings.effective_filter();
    munge::remove_filtered_candidates(sdp, filter, settings.force_turn, settings.has_mcu);
    munge::set_preferred_codec(
        sdp,
        munge::MediaKind::Audio,
        settings.audio_codec.effective(true).as_ref(),
    );
    munge::set_preferred_codec(
        sdp,
        munge::MediaKind::Video,
        settings.video_codec.effective(false).as_ref(),
    );
    munge::set_bitrate(sdp, &settings.bandwidth, &settings.google_x_bandwidth);
    munge::set_codec_params(sdp, settings);
    munge::remove_codecs(sdp, settings);
    if settings.disable_remb {
        munge::remove_remb(sdp);
    }
    let common = parse::common_supports(&settings.current_codec_support, sdp);
    let p = peer.connection_params(settings, SdpDirection::Remote, ty, common);
    let rec = munge::handle_connection_settings(sdp, &p);
    peer.sessions.remote = Some(rec);
    munge::remove_unknown_apt_rtx(sdp);
    peer.remote_stream_id = parse::remote_stream_id(sdp);
}

/// Munges a received description before `setRemoteDescription` (§1.1 remote steps 0–8), then
/// records the remote stream id (§1.12). Updates `peer.sessions.remote` and
/// `peer.remote_stream_id`.
pub fn remote(
    sdp: &str,
    ty: SdpType,
    settings: &SdpSettings,
    peer: &mut PeerContext,
) -> Result<String, SdpError> {
    let mut s = Sdp::parse(sdp)?;
    remote_sdp(&mut s, ty, settings, peer);
    Ok(s.to_text())
}
