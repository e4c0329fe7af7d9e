//! One module per resource; `lookup` maps an operation id to its handler. An operation not
//! listed here answers 501 naming itself.

mod accounts;
mod applications;
mod calls;
mod messages;
mod messaging_numbers;
mod numbers;
mod orders;
mod profiles;
mod users;
mod video;
mod webhooks;

use crate::{Ctx, HandlerResult};
use std::future::Future;
use std::pin::Pin;

pub type BoxFut = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;
pub type Handler = fn(Ctx) -> BoxFut;

macro_rules! table {
    ($($id:literal => $f:path),* $(,)?) => {
        pub fn lookup(operation_id: &str) -> Option<Handler> {
            match operation_id {
                $($id => Some(|ctx| Box::pin($f(ctx))),)*
                _ => None,
            }
        }

        /// The operation ids Dialtone implements.
        pub fn implemented() -> &'static [&'static str] {
            &[$($id),*]
        }
    };
}

table! {
    "ListManagedAccounts" => accounts::list,
    "CreateManagedAccount" => accounts::create,
    "RetrieveManagedAccount" => accounts::retrieve,
    "UpdateManagedAccount" => accounts::update,
    "DisableManagedAccount" => accounts::disable,
    "EnableManagedAccount" => accounts::enable,
    "ListAllocatableGlobalOutboundChannels" => accounts::channels,
    "UpdateManagedAccountGlobalChannelLimit" => accounts::set_channel_limit,
    "ListOrganizationUsers" => users::list,
    "GetOrganizationUsersGroupsReport" => users::groups_report,
    "GetOrganizationUser" => users::retrieve,
    "DeleteOrganizationUser" => users::remove,
    "GetWebhookDeliveries" => webhooks::list,
    "GetWebhookDelivery" => webhooks::retrieve,
    "ListMessagingProfiles" => profiles::list,
    "CreateMessagingProfile" => profiles::create,
    "RetrieveMessagingProfile" => profiles::retrieve,
    "UpdateMessagingProfile" => profiles::update,
    "DeleteMessagingProfile" => profiles::delete,
    "ListProfilePhoneNumbers" => profiles::numbers,
    "ListAvailablePhoneNumbers" => orders::available,
    "CreateNumberOrder" => orders::create,
    "ListNumberOrders" => orders::list,
    "RetrieveNumberOrder" => orders::retrieve,
    "UpdateNumberOrder" => orders::update,
    "ListPhoneNumbers" => numbers::list,
    "RetrievePhoneNumber" => numbers::retrieve,
    "UpdatePhoneNumber" => numbers::update,
    "DeletePhoneNumber" => numbers::delete,
    "ListPhoneNumbersWithMessagingSettings" => messaging_numbers::list,
    "GetPhoneNumberMessagingSettings" => messaging_numbers::retrieve,
    "UpdatePhoneNumberMessagingSettings" => messaging_numbers::update,
    "ListMobilePhoneNumbersWithMessagingSettings" => messaging_numbers::list_mobile,
    "GetMobilePhoneNumberMessagingSettings" => messaging_numbers::retrieve_mobile,
    "BulkUpdateMessagingSettingsOnPhoneNumbers" => messaging_numbers::bulk_create,
    "GetBulkUpdateMessagingSettingsOnPhoneNumbersStatus" => messaging_numbers::bulk_retrieve,
    "SendMessage" => messages::send_any,
    "CreateLongCodeMessage" => messages::send_long_code,
    "CreateShortCodeMessage" => messages::send_short_code,
    "CreateNumberPoolMessage" => messages::send_number_pool,
    "CreateGroupMmsMessage" => messages::send_group_mms,
    "ScheduleMessage" => messages::schedule,
    "SendWhatsappMessage" => messages::whatsapp,
    "GetMessage" => messages::retrieve,
    "CancelMessage" => messages::cancel,
    "GetGroupMmsMessages" => messages::group,
    "ListOptOuts" => messages::optouts,
    "ListCallControlApplications" => applications::list,
    "CreateCallControlApplication" => applications::create,
    "RetrieveCallControlApplication" => applications::retrieve,
    "UpdateCallControlApplication" => applications::update,
    "DeleteCallControlApplication" => applications::delete,
    "ListConnections" => applications::connections,
    "RetrieveConnection" => applications::connection,
    "ListConnectionActiveCalls" => applications::active_calls,
    "DialCall" => calls::dial,
    "RetrieveCallStatus" => calls::retrieve,
    "AnswerCall" => calls::answer,
    "RejectCall" => calls::reject,
    "HangupCall" => calls::hangup,
    "UpdateClientState" => calls::client_state_update,
    "SendDTMF" => calls::send_dtmf,
    "SendSIPInfo" => calls::send_sip_info,
    "SpeakCall" => calls::speak,
    "StartCallPlayback" => calls::playback_start,
    "StopCallPlayback" => calls::playback_stop,
    "GatherCall" => calls::gather,
    "GatherUsingAudio" => calls::gather_using_audio,
    "GatherUsingSpeak" => calls::gather_using_speak,
    "StopCallGather" => calls::gather_stop,
    "BridgeCall" => calls::bridge,
    "TransferCall" => calls::transfer,
    "ReferCall" => calls::refer,
    "StartCallRecord" => calls::record_start,
    "PauseCallRecording" => calls::record_pause,
    "ResumeCallRecording" => calls::record_resume,
    "StopCallRecording" => calls::record_stop,
    "StartCallFork" => calls::fork_start,
    "StopCallFork" => calls::fork_stop,
    "StartSiprecSession" => calls::siprec_start,
    "StopSiprecSession" => calls::siprec_stop,
    "StartCallStreaming" => calls::streaming_start,
    "StopCallStreaming" => calls::streaming_stop,
    "StartCallTranscription" => calls::transcription_start,
    "StopCallTranscription" => calls::transcription_stop,
    "noiseSuppressionStart" => calls::suppression_start,
    "noiseSuppressionStop" => calls::suppression_stop,
    "SwitchSupervisorRole" => calls::switch_supervisor_role,
    "EnqueueCall" => calls::enqueue,
    "LeaveQueue" => calls::leave_queue,
    "CallStartAIAssistant" => calls::ai_assistant_start,
    "CallStopAIAssistant" => calls::ai_assistant_stop,
    "CallJoinAIAssistant" => calls::ai_assistant_join,
    "CallAddMessagesToAIAssistant" => calls::ai_assistant_add_messages,
    "callGatherUsingAI" => calls::gather_using_ai,
    "CallStartConversationRelay" => calls::conversation_relay_start,
    "CallStopConversationRelay" => calls::conversation_relay_stop,
    "ListRooms" => video::list_rooms,
    "CreateRoom" => video::create_room,
    "ViewRoom" => video::view_room,
    "UpdateRoom" => video::update_room,
    "DeleteRoom" => video::delete_room,
    "CreateRoomClientToken" => video::generate_token,
    "RefreshRoomClientToken" => video::refresh_token,
    "RetrieveListRoomSessions" => video::room_sessions,
    "ListRoomSessions" => video::list_sessions,
    "ViewRoomSession" => video::view_session,
    "EndSession" => video::end_session,
    "KickParticipantInSession" => video::kick,
    "MuteParticipantInSession" => video::mute,
    "UnmuteParticipantInSession" => video::unmute,
    "RetrieveListRoomParticipants" => video::session_participants,
    "ListRoomParticipants" => video::list_participants,
    "ViewRoomParticipant" => video::view_participant,
    "ListRoomRecordings" => video::list_recordings,
    "ViewRoomRecording" => video::view_recording,
    "DeleteRoomRecording" => video::delete_recording,
    "DeleteRoomRecordings" => video::delete_recordings,
    "CreateRoomComposition" => video::create_composition,
    "ListRoomCompositions" => video::list_compositions,
    "ViewRoomComposition" => video::view_composition,
    "DeleteRoomComposition" => video::delete_composition,
}
