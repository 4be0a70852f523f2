import ArgumentParser
import Plotting
import Recording
import Scenarios

/// An error that ends a wgf command: printed on stderr as `wgf: <description>`, the process
/// exiting with ``exitCode`` (see ``Exit`` and the README's table). The library's error types
/// conform below, each with its code, so that every command reports an error alike and a new
/// error type needs one conformance, not a catch in each command.
protocol CommandError: Error, CustomStringConvertible {
    /// The process's exit code for this error.
    var exitCode: Int32 { get }
}

extension ScenarioError: CommandError {
    /// Bad input: the scenario.
    var exitCode: Int32 { Exit.badInput }
}

extension FileError: CommandError {
    /// Bad input: a file read (InputFileError: a CSV or HDF5 input; RunFileError: a run's file read back).
    var exitCode: Int32 { Exit.badInput }
}

extension NPYError: CommandError {
    /// Bad input: arrays that do not match the trajectory they come from.
    var exitCode: Int32 { Exit.badInput }
}

extension CheckpointFile.ReadError: CommandError {
    /// Bad input: a checkpoint that cannot be resumed.
    var exitCode: Int32 { Exit.badInput }
}

extension IOFailure: CommandError {
    /// An I/O failure: what was written before it stays readable.
    var exitCode: Int32 { Exit.ioFailure }
}

extension RunDirectoryRefusal: CommandError {
    /// A run directory in use, like a bad command line.
    var exitCode: Int32 { Exit.usage }
}

/// Ends the command on `error`: prints `wgf: <context><error>` and returns the error's exit
/// code, to be thrown.
///
/// - Parameters:
///   - error: The error.
///   - context: Put before the message, e.g. `cannot resume: `.
func fail(_ error: any CommandError, context: String = "") -> ExitCode {
    fail(context + error.description, code: error.exitCode)
}

/// Runs `body`; a ``CommandError`` it throws ends the command (``fail(_:context:)``), any
/// other error passes.
///
/// - Parameters:
///   - context: Put before the message, e.g. `cannot resume: `.
///   - body: The work that may fail.
func reporting<T>(context: String = "", _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as any CommandError {
        throw fail(e, context: context)
    }
}
