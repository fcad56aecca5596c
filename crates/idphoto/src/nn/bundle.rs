//! The file of one converted network: its forms (as exported, and mirrored about the image
//! diagonal for portrait inputs), each a [`packed`](super::packed) NNEF network with a
//! symbolic input height and width (or the fixed input size of the landmark model).
//!
//! Layout: [`MAGIC`], the number of forms (one byte), then per form a flags byte
//! ([`TRANSPOSED`], [`PLANAR`]), the length of its packed network (four bytes, little-endian)
//! and the network.

use crate::error::{Error, Result};

/// The first bytes of a converted network (format version 1).
pub(crate) const MAGIC: &[u8; 12] = b"idphoto-nn1\n";

/// The form is the network mirrored about the image diagonal: it takes the image with its
/// height and width swapped.
pub(crate) const TRANSPOSED: u8 = 1;

/// The form takes its input planar (NCHW), its NHWC -> NCHW transposition removed.
pub(crate) const PLANAR: u8 = 2;

/// One form of a network: its flags and its packed bytes.
pub(crate) struct Form<'a> {
    pub(crate) flags: u8,
    pub(crate) packed: &'a [u8],
}

/// Writes the forms into one file.
pub(crate) fn write(forms: &[(u8, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut out = MAGIC.to_vec();
    out.push(u8::try_from(forms.len()).map_err(|_| Error::Internal("too many forms".into()))?);
    for (flags, packed) in forms {
        out.push(*flags);
        let len = u32::try_from(packed.len())
            .map_err(|_| Error::Internal("a network over 4 GiB".into()))?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(packed);
    }
    Ok(out)
}

/// The forms of a file [`write`] wrote; an [`Error::Model`] for anything else.
pub(crate) fn read(bytes: &[u8]) -> Result<Vec<Form<'_>>> {
    let bad = |what: &str| Error::Model(format!("not a converted idphoto network: {what}"));
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| bad("no idphoto-nn1 header"))?;
    let (&count, mut rest) = rest.split_first().ok_or_else(|| bad("no forms"))?;
    let mut forms = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (&flags, r) = rest.split_first().ok_or_else(|| bad("ends early"))?;
        let len = r
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| bad("ends early"))?;
        let packed = r.get(4..4 + len).ok_or_else(|| bad("ends early"))?;
        forms.push(Form { flags, packed });
        rest = &r[4 + len..];
    }
    if !rest.is_empty() || forms.is_empty() {
        return Err(bad("damaged"));
    }
    Ok(forms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_read_back_and_damage_is_an_error() {
        let file = write(&[(0, vec![1, 2, 3]), (TRANSPOSED | PLANAR, vec![4])]).unwrap();
        let forms = read(&file).unwrap();
        assert_eq!(forms.len(), 2);
        assert_eq!((forms[0].flags, forms[0].packed), (0, &[1u8, 2, 3][..]));
        assert_eq!((forms[1].flags, forms[1].packed), (3, &[4u8][..]));
        for damaged in [
            &file[..file.len() - 1],
            &file[1..],
            &[file.as_slice(), &[0]].concat()[..],
            MAGIC.as_slice(),
            b"",
        ] {
            assert_eq!(read(damaged).err().unwrap().code(), "model_error");
        }
    }
}
