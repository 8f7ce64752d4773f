//! `skylink sdp munge`: run one of the skylink-sdp pipelines (the SDP munging of skylinkjs
//! 0.6.26) over a session description read from stdin, writing the result to stdout unchanged
//! in every other byte (CRLF kept, no newline added).

use anyhow::Context as _;
use skylink_sdp::{PeerContext, SdpSettings, SdpType};
use std::io::{Read as _, Write as _};
use std::path::PathBuf;

/// Which pipeline to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    /// A description we created, as set with `setLocalDescription` (local munging).
    Local,
    /// What we send to the peer: local munging, then the output renderer.
    Output,
    /// A description we received, as set with `setRemoteDescription` (remote munging).
    Remote,
}

/// The description type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TypeArg {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

impl From<TypeArg> for SdpType {
    fn from(t: TypeArg) -> Self {
        match t {
            TypeArg::Offer => SdpType::Offer,
            TypeArg::Answer => SdpType::Answer,
        }
    }
}

/// `skylink sdp munge` arguments.
#[derive(Debug, clap::Args)]
pub struct MungeArgs {
    /// Pipeline: `local`, `output` (local + output rendering) or `remote`.
    #[arg(long, value_enum)]
    pub stage: Stage,
    /// Description type.
    #[arg(long = "type", value_enum)]
    pub sdp_type: TypeArg,
    /// JSON settings file (SDK option names: audioCodec, videoCodec, codecParams,
    /// disableVideoFecCodecs, disableComfortNoiseCodec, disableREMB, filterCandidatesType,
    /// bandwidth, googleXBandwidth, sdpSettings, audio, …). Missing keys take the SDK
    /// defaults; without a file every setting is the default.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// The remote peer's agent name (e.g. `chrome`, `firefox`).
    #[arg(long, default_value = "chrome")]
    pub peer_agent: String,
    /// The remote peer's id (`MCU` selects the MCU rules).
    #[arg(long, default_value = "peer1")]
    pub peer_id: String,
    /// The remote peer does not trickle ICE candidates (`enableIceTrickle: false`).
    #[arg(long)]
    pub peer_no_trickle: bool,
    /// For `--stage output --type answer`: the remote offer we are answering (munged first, so
    /// that rejected m-lines are restored as 0.6.26 does).
    #[arg(long)]
    pub remote_offer: Option<PathBuf>,
}

/// Runs `skylink sdp munge`.
pub fn run(args: MungeArgs) -> anyhow::Result<()> {
    let settings: SdpSettings = match &args.settings {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("parsing settings {}", path.display()))?
        }
        None => SdpSettings::default(),
    };
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the SDP from stdin (must be UTF-8)")?;
    let out = munge(&input, &args, &settings)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes()).context("writing stdout")?;
    stdout.flush().context("writing stdout")?;
    Ok(())
}

fn munge(input: &str, args: &MungeArgs, settings: &SdpSettings) -> anyhow::Result<String> {
    let ty: SdpType = args.sdp_type.into();
    let mut peer = PeerContext::new(args.peer_id.clone(), args.peer_agent.clone());
    peer.enable_ice_trickle = !args.peer_no_trickle;
    let out = match args.stage {
        Stage::Local => skylink_sdp::local(input, ty, settings, &mut peer)?,
        Stage::Output => {
            if let Some(path) = &args.remote_offer {
                let offer = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                skylink_sdp::remote(&offer, SdpType::Offer, settings, &mut peer)
                    .with_context(|| format!("remote offer {}", path.display()))?;
            }
            let local = skylink_sdp::local(input, ty, settings, &mut peer)?;
            skylink_sdp::output(&local, ty, settings, &peer)?
        }
        Stage::Remote => {
            if ty == SdpType::Answer {
                // Our offer is assumed to have been audio+video sendrecv munged with `settings`.
                peer.assume_local_offer(settings);
            }
            skylink_sdp::remote(input, ty, settings, &mut peer)?
        }
    };
    Ok(out)
}
