<?php
/**
 * Plugin Name:       Echo5 Leads
 * Description:       Sends every form submission (Contact Form 7, WPForms, Gravity Forms, Elementor Pro, Fluent Forms, Ninja Forms and its own [echo5_form]) to an Echo5 Leads daemon, queueing it on the site until the daemon has it.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            Echo5
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       echo5-leads
 * Domain Path:       /languages
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'ECHO5_LEADS_VERSION', '1.0.0' );
define( 'ECHO5_LEADS_FILE', __FILE__ );
define( 'ECHO5_LEADS_DIR', plugin_dir_path( __FILE__ ) );

require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-settings.php';
require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-outbox.php';
require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-sender.php';
require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-context.php';
require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-payload.php';
require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-capture.php';
require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-shortcode.php';
require_once ECHO5_LEADS_DIR . 'includes/class-echo5-leads-admin.php';

register_activation_hook( __FILE__, array( 'Echo5_Leads_Outbox', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Echo5_Leads_Outbox', 'deactivate' ) );

add_action(
	'init',
	static function () {
		load_plugin_textdomain( 'echo5-leads', false, dirname( plugin_basename( ECHO5_LEADS_FILE ) ) . '/languages' );
	}
);

Echo5_Leads_Outbox::register();
Echo5_Leads_Sender::register();
Echo5_Leads_Context::register();
Echo5_Leads_Capture::register();
Echo5_Leads_Shortcode::register();
if ( is_admin() ) {
	Echo5_Leads_Settings::register();
	Echo5_Leads_Admin::register();
}
