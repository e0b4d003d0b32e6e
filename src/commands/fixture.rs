//! `stetho fixture import` and `stetho fixture scrub`.

use crate::cli::{Cli, FixtureCommand};
use crate::commands::Output;

pub fn run(_cli: &Cli, command: &FixtureCommand, _out: &Output) -> Result<u8, String> {
    match command {
        FixtureCommand::Import(_) => Err("`fixture import` is not available yet".into()),
        FixtureCommand::Scrub(_) => Err("`fixture scrub` is not available yet".into()),
    }
}
