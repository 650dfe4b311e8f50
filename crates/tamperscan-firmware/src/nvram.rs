//! NVRAM volumes: the variable stores inside them, read with `tamperscan-flash`.

use crate::uefi::{raw_module, Place};
use crate::{Ctx, Out};

/// Reads the data area of an NVRAM volume.
pub(crate) fn volume_body(_ctx: &Ctx, body: &[u8], place: Place, path: &str, out: &mut Out) {
    out.modules.push(raw_module(body, place, path, "NVRAM data"));
}
