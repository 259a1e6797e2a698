//! The verbs of the command line, one file each: its arguments, what it runs and what it prints.
//! Adding a verb is a file here and a line in [`Command`].

mod apply;
mod check;
mod compare;
mod demo;
mod generate;
mod print;
mod run;
mod sql;
mod stages;

use clap::Subcommand;

/// The options every verb takes.
pub struct Global {
    pub quiet: bool,
}

#[derive(Subcommand)]
pub enum Command {
    Demo(demo::Args),
    Run(run::Args),
    Check(check::Args),
    Apply(apply::Args),
    Compare(compare::Args),
    Features(stages::FeaturesArgs),
    Rules(stages::RulesArgs),
    Cluster(stages::ClusterArgs),
    Report(stages::ReportArgs),
    Generate(generate::Args),
    Sql(sql::Args),
}

impl Command {
    pub fn execute(&self, global: &Global) -> segmenta::Result<()> {
        match self {
            Command::Demo(args) => demo::execute(args, global),
            Command::Run(args) => run::execute(args, global),
            Command::Check(args) => check::execute(args),
            Command::Apply(args) => apply::execute(args, global),
            Command::Compare(args) => compare::execute(args, global),
            Command::Features(args) => stages::features(args, global),
            Command::Rules(args) => stages::rules(args, global),
            Command::Cluster(args) => stages::cluster(args, global),
            Command::Report(args) => stages::report(args, global),
            Command::Generate(args) => generate::execute(args, global),
            Command::Sql(args) => sql::execute(args, global),
        }
    }
}
