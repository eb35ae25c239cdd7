//! Bedrock model ids, as they appear in the Converse path, mapped to the model Python writes
//! as `gen_ai.request.model`.

/// What a Bedrock model id names: the model (what `gen_ai.request.model` gets) and the
/// vendor that publishes it (recorded nowhere, as in Python; here for callers that want it).
///
/// ```
/// use llmetry_instruments::providers::bedrock_model;
///
/// let m = bedrock_model("us.anthropic.claude-3-5-sonnet-20240620-v1:0");
/// assert_eq!((m.vendor.as_deref(), m.model.as_str()), (Some("anthropic"), "claude-3-5-sonnet-20240620-v1:0"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BedrockModel {
    /// `anthropic`, `meta`, `amazon`, … (`None` for an opaque id: an application inference
    /// profile, a provisioned or imported model).
    pub vendor: Option<String>,
    /// The model without geography and vendor prefixes (`claude-3-5-sonnet-20240620-v1:0`),
    /// or the whole id when it is opaque.
    pub model: String,
}

/// Geography prefixes of cross-region inference profiles (`us.anthropic.claude-…`).
const GEOGRAPHIES: [&str; 9] = [
    "us", "us-gov", "eu", "apac", "jp", "au", "ca", "global", "ap",
];

/// Maps a Bedrock `modelId` the way Python's `_get_vendor_model` does, with three fixes:
/// the `:0` version suffix of an ARN is kept, every geography prefix (`us.`, `eu.`,
/// `apac.`, `us-gov.`, `jp.`, `au.`, `ca.`, `global.`) is dropped, and opaque ARNs
/// (application inference profiles, provisioned and imported models) are kept whole.
///
/// ```
/// use llmetry_instruments::providers::bedrock_model;
///
/// let model = |id: &str| bedrock_model(id).model;
/// assert_eq!(model("anthropic.claude-3-5-sonnet-20240620-v1:0"), "claude-3-5-sonnet-20240620-v1:0");
/// assert_eq!(model("global.anthropic.claude-sonnet-4-5-20250929-v1:0"), "claude-sonnet-4-5-20250929-v1:0");
/// assert_eq!(model("meta.llama3-1-70b-instruct-v1:0"), "llama3-1-70b-instruct-v1:0");
/// assert_eq!(
///     model("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"),
///     "claude-3-5-sonnet-20240620-v1:0",
/// );
/// let opaque = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
/// assert_eq!(model(opaque), opaque);
/// assert_eq!(bedrock_model(opaque).vendor, None);
/// ```
pub fn bedrock_model(model_id: &str) -> BedrockModel {
    let id = model_id.trim();
    let resource = if id.starts_with("arn:") {
        // arn:aws:bedrock:{region}:{account}:{type}/{id} — the id may hold `:` itself.
        let after_account = id.splitn(6, ':').nth(5).unwrap_or("");
        match after_account.split_once('/') {
            Some(("foundation-model" | "inference-profile", rest)) => rest,
            _ => {
                return BedrockModel {
                    vendor: None,
                    model: id.to_owned(),
                };
            }
        }
    } else {
        id
    };
    let mut rest = resource;
    if let Some((first, tail)) = rest.split_once('.')
        && GEOGRAPHIES.contains(&first)
        && tail.contains('.')
    {
        rest = tail;
    }
    match rest.split_once('.') {
        Some((vendor, model)) if !vendor.is_empty() && !model.is_empty() => BedrockModel {
            vendor: Some(vendor.to_owned()),
            model: model.to_owned(),
        },
        _ => BedrockModel {
            vendor: None,
            model: rest.to_owned(),
        },
    }
}
