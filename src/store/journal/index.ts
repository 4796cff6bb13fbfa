export { type JournalOptions, type JournalStats, JournalStore } from './journal.js';
export { type RepairReport, repairJournal, type VerifyReport, verifyJournal } from './verify.js';
